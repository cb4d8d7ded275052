/* The page builder's hottest helpers in C: each page of generated conversations calls them dozens of
 * times, and in Python they were about a quarter of a never-requested page's cost.
 *
 * Each function here has a Python twin of the same name, marked @compiled (timestamp_text in
 * data/generator.py, uuid4_hex and decimal_digits in data/platforms.py, arrival_moment in
 * data/arrivals.py, shuffled in data/states.py), which is the reference: those modules use these
 * where the install compiled this file (pyproject.toml builds it as an optional extension) and
 * their own functions otherwise. tests/data/test_speedups.py holds each pair equal.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>

#define DAY_US 86400000000LL

/* Year, month and day of a day counted from 1970-01-01 (proleptic Gregorian), by whole eras of
 * 400 years: H. Hinnant's civil_from_days. */
static void civil_from_days(long long days, long long *year, int *month, int *day)
{
    days += 719468;
    long long era = (days >= 0 ? days : days - 146096) / 146097;
    long long doe = days - era * 146097;                                 /* [0, 146096] */
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* [0, 365] */
    long long mp = (5 * doy + 2) / 153;                                   /* [0, 11], from March */
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

/* `value` as exactly `width` decimal digits, zero-padded, at `out`. */
static void digits(char *out, int value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
}

/* timestamp_text(microseconds) -> "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00", the fraction without trailing
 * zeros and left out on a whole second; OverflowError outside years 1..9999, as datetime says. */
static PyObject *timestamp_text(PyObject *module, PyObject *arg)
{
    int overflow = 0;
    long long us = PyLong_AsLongLongAndOverflow(arg, &overflow);
    if (us == -1 && PyErr_Occurred())
        return NULL;
    if (overflow)
        return PyErr_Format(PyExc_OverflowError, "date value out of range");
    long long days = us / DAY_US, rest = us % DAY_US;
    if (rest < 0) { /* floor division, as Python's divmod */
        rest += DAY_US;
        days -= 1;
    }
    long long year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    if (year < 1 || year > 9999)
        return PyErr_Format(PyExc_OverflowError, "date value out of range");
    long long seconds = rest / 1000000;
    int fraction = (int)(rest % 1000000);
    char text[32]; /* written digit by digit: snprintf cost more than the rest of the function */
    digits(text, (int)year, 4);
    text[4] = '-';
    digits(text + 5, month, 2);
    text[7] = '-';
    digits(text + 8, day, 2);
    text[10] = 'T';
    digits(text + 11, (int)(seconds / 3600), 2);
    text[13] = ':';
    digits(text + 14, (int)(seconds / 60 % 60), 2);
    text[16] = ':';
    digits(text + 17, (int)(seconds % 60), 2);
    int length = 19;
    if (fraction) {
        int places = 6;
        while (fraction % 10 == 0) {
            fraction /= 10;
            places--;
        }
        text[length] = '.';
        digits(text + length + 1, fraction, places);
        length += 1 + places;
    }
    memcpy(text + length, "+00:00", 6);
    return PyUnicode_FromStringAndSize(text, length + 6);
}

/* uuid4_hex(h) -> the first 32 of h's lowercase hex digits as a version-4 UUID string: the version
 * nibble 4, and the variant's two bits 10 (digit 16 becomes one of 8, 9, a, b). */
static PyObject *uuid4_hex(PyObject *module, PyObject *arg)
{
    static const char variant[] = "89ab";
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_ASCII(arg) || PyUnicode_GET_LENGTH(arg) < 32) {
        PyErr_SetString(PyExc_ValueError, "uuid4_hex takes a str of at least 32 hex digits");
        return NULL;
    }
    const char *h = (const char *)PyUnicode_DATA(arg);
    int nibble;
    if (h[16] >= '0' && h[16] <= '9')
        nibble = h[16] - '0';
    else if (h[16] >= 'a' && h[16] <= 'f')
        nibble = h[16] - 'a' + 10;
    else {
        PyErr_SetString(PyExc_ValueError, "uuid4_hex takes lowercase hex digits");
        return NULL;
    }
    PyObject *result = PyUnicode_New(36, 127);
    if (result == NULL)
        return NULL;
    char *out = (char *)PyUnicode_DATA(result);
    memcpy(out, h, 8);
    out[8] = '-';
    memcpy(out + 9, h + 8, 4);
    out[13] = '-';
    out[14] = '4';
    memcpy(out + 15, h + 13, 3);
    out[18] = '-';
    out[19] = variant[nibble % 4];
    memcpy(out + 20, h + 17, 3);
    out[23] = '-';
    memcpy(out + 24, h + 20, 12);
    return result;
}

/* decimal_digits(raw, count) -> `count` decimal digits drawn from `raw` (at most 16 bytes, read as a
 * big-endian number), the first not zero: str((1 + number % 9) * 10**(count-1) + number // 9 % 10**(count-1)). */
static PyObject *decimal_digits(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer raw;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "decimal_digits takes raw bytes and a count");
        return NULL;
    }
    long count = PyLong_AsLong(args[1]);
    if (count == -1 && PyErr_Occurred())
        return NULL;
    if (count < 1 || count > 18) {
        PyErr_SetString(PyExc_ValueError, "decimal_digits makes 1 to 18 digits");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &raw, PyBUF_SIMPLE) < 0)
        return NULL;
    if (raw.len > 16) {
        PyBuffer_Release(&raw);
        PyErr_SetString(PyExc_ValueError, "decimal_digits reads at most 16 bytes");
        return NULL;
    }
    unsigned __int128 number = 0;
    for (Py_ssize_t i = 0; i < raw.len; i++)
        number = number << 8 | ((const unsigned char *)raw.buf)[i];
    PyBuffer_Release(&raw);
    unsigned long long scale = 1;
    for (long i = 1; i < count; i++)
        scale *= 10;
    unsigned long long value = (unsigned long long)(1 + number % 9) * scale +
                               (unsigned long long)(number / 9 % scale);
    return PyUnicode_FromFormat("%llu", value);
}

/* Reads args[i] as a signed 64-bit integer into *out; 0 on success, -1 with an exception set. */
static int as_int64(PyObject *arg, long long *out)
{
    int overflow = 0;
    *out = PyLong_AsLongLongAndOverflow(arg, &overflow);
    if (*out == -1 && PyErr_Occurred())
        return -1;
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "arrival_moment takes 64-bit integers");
        return -1;
    }
    return 0;
}

/* arrival_moment(first, slot, spread, day, starts, weights, n, draw) -> when arrival n arrived
 * (data/arrivals.py): its busy point first + n*slot + (draw*spread >> 32), turned into a moment by
 * the day's hourly `starts` and `weights` (24 each) of a `day` of busy units. */
static PyObject *arrival_moment(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    long long first, slot, spread, day, n, draw, starts[24], weights[24];
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "arrival_moment takes 8 arguments");
        return NULL;
    }
    if (as_int64(args[0], &first) || as_int64(args[1], &slot) || as_int64(args[2], &spread) ||
        as_int64(args[3], &day) || as_int64(args[6], &n) || as_int64(args[7], &draw))
        return NULL;
    for (int table = 0; table < 2; table++) {
        PyObject *values = args[4 + table];
        if (!PyTuple_Check(values) || PyTuple_GET_SIZE(values) != 24) {
            PyErr_SetString(PyExc_TypeError, "arrival_moment takes tuples of 24 hourly starts and weights");
            return NULL;
        }
        for (int hour = 0; hour < 24; hour++)
            if (as_int64(PyTuple_GET_ITEM(values, hour), table ? &weights[hour] : &starts[hour]))
                return NULL;
    }
    if (day <= 0 || slot < 0 || spread < 0 || draw < 0) {
        PyErr_SetString(PyExc_ValueError, "arrival_moment takes a positive day and non-negative slot, spread, draw");
        return NULL;
    }
    /* In 128 bits: draw * spread passes 64 for a long slot (a few conversations over months). */
    __int128 busy = (__int128)first + (__int128)n * slot + (((__int128)draw * spread) >> 32);
    __int128 whole = busy / day, rest = busy % day;
    if (rest < 0) { /* floor division, as Python's divmod */
        rest += day;
        whole -= 1;
    }
    int hour = 23; /* bisect_right(starts, rest) - 1: the last hour starting at or before rest */
    while (hour > 0 && starts[hour] > rest)
        hour--;
    if (weights[hour] <= 0) {
        PyErr_SetString(PyExc_ValueError, "arrival_moment takes positive weights");
        return NULL;
    }
    __int128 moment = whole * DAY_US + (__int128)hour * 3600000000LL + (rest - starts[hour]) / weights[hour];
    if (moment > LLONG_MAX || moment < LLONG_MIN) {
        PyErr_SetString(PyExc_OverflowError, "arrival_moment: the moment passes 64 bits");
        return NULL;
    }
    return PyLong_FromLongLong((long long)moment);
}

/* shuffled(randomness, lives) -> `lives` (a tuple) shuffled by Fisher-Yates from the last place down,
 * place `top` swapping with place randomness[top] % (top + 1). */
static PyObject *shuffled(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyBytes_Check(args[0]) || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "shuffled takes bytes and a tuple");
        return NULL;
    }
    const unsigned char *randomness = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t size = PyTuple_GET_SIZE(args[1]);
    if (PyBytes_GET_SIZE(args[0]) < size) {
        PyErr_SetString(PyExc_ValueError, "shuffled takes a byte of randomness per place");
        return NULL;
    }
    PyObject *result = PyTuple_New(size);
    if (result == NULL)
        return NULL;
    PyObject **items = ((PyTupleObject *)result)->ob_item;
    for (Py_ssize_t i = 0; i < size; i++)
        items[i] = PyTuple_GET_ITEM(args[1], i);
    for (Py_ssize_t top = size - 1; top > 0; top--) {
        Py_ssize_t other = randomness[top] % (top + 1);
        PyObject *swapped = items[top];
        items[top] = items[other];
        items[other] = swapped;
    }
    for (Py_ssize_t i = 0; i < size; i++)
        Py_INCREF(items[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"timestamp_text", timestamp_text, METH_O, "The API's text of an instant (microseconds since 1970, UTC)."},
    {"uuid4_hex", uuid4_hex, METH_O, "32 hex digits as a version-4 UUID string."},
    {"decimal_digits", (PyCFunction)(void (*)(void))decimal_digits, METH_FASTCALL,
     "A string of `count` decimal digits, the first not zero, drawn from `raw`."},
    {"arrival_moment", (PyCFunction)(void (*)(void))arrival_moment, METH_FASTCALL,
     "When arrival n arrived, given its 32-bit draw and its schedule's constants."},
    {"shuffled", (PyCFunction)(void (*)(void))shuffled, METH_FASTCALL,
     "A tuple shuffled by Fisher-Yates, a byte of randomness per place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "C twins of the page builder's hottest helpers.", 0, methods,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    return PyModuleDef_Init(&module);
}

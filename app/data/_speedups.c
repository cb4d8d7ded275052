/* The generator's three hottest text helpers in C: each page of generated conversations calls them
 * dozens of times, and in Python they were a fifth of a never-requested page's cost.
 *
 * Each function here has a pure-Python twin of the same name (timestamp_text in data/generator.py,
 * uuid4_hex and decimal_digits in data/platforms.py), which is the reference: those modules use
 * these where the install compiled this file (pyproject.toml builds it as an optional extension)
 * and their own functions otherwise. tests/data/test_speedups.py holds each pair equal.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

static PyMethodDef methods[] = {
    {"timestamp_text", timestamp_text, METH_O, "The API's text of an instant (microseconds since 1970, UTC)."},
    {"uuid4_hex", uuid4_hex, METH_O, "32 hex digits as a version-4 UUID string."},
    {"decimal_digits", (PyCFunction)(void (*)(void))decimal_digits, METH_FASTCALL,
     "A string of `count` decimal digits, the first not zero, drawn from `raw`."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "C twins of the generator's text helpers.", 0, methods,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    return PyModuleDef_Init(&module);
}

// tests/conversations.spec.ts
import { test, expect } from "@playwright/test";

const MOCK = "http://127.0.0.1:8000";
const CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11";

test("lists the conversations the backend returns", async ({ page, request }, testInfo) => {
  const namespace = `pw-${testInfo.workerIndex}-${testInfo.testId}`.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64);
  const headers = { "X-Mock-Namespace": namespace };
  const conversation = {
    id: "e59e2971-5296-4cc6-bcf2-6a0635a9d0d8", chatbot_id: CHATBOT, platform: "voice",
    state: "in_progress", active: true, is_human_mode: false, migrated_data: false,
    created_at: "2025-03-05T11:12:17.101138+00:00", updated_at: "2025-03-05T11:12:18.961956+00:00",
    last_message: null, metadata: { type: "voice_chat" }, session_token: null, sns_user_id: null,
    user_id: null, voice_path: "conversation-voice_assistant_room_9570.ogg",
  };
  const put = await request.put(`${MOCK}/__mock/chatbots/${CHATBOT}/conversations`, { headers, data: [conversation] });
  expect(put.status()).toBe(204);

  // The app under test, given the namespace's base URL (here as a query parameter of the app's own).
  await page.goto(`http://localhost:5173/?api=${MOCK}/__mock/ns/${namespace}`);
  await expect(page.getByRole("listitem")).toHaveCount(1);

  const journal = await request.get(`${MOCK}/__mock/requests`, {
    headers, params: { path: `/chatbots/${CHATBOT}/conversations` },
  });
  const entries = await journal.json();
  expect(entries[0]).toMatchObject({ method: "GET", status: 200, query: { page: "1" } });
  expect(entries[0].headers["X-Api-Key"]).toBe("***");

  await request.post(`${MOCK}/__mock/reset`, { headers });
});

import { expect, test } from "vitest";
import { parseEnvelope } from "./event-stream.js";
import { SseParser } from "./sse.js";

const STREAM =
  'id: 0\nevent: event\ndata: {"data":{"status":"started","time":1774994819},"event":"status","version":"1.0","event_id":"0"}\n\n' +
  ': a comment\n' +
  'id: 1\nevent: event\ndata: {"data":{"time":1774994823,"origin":{"id":"69b7cd6b","source":"stdout"},"payload":"héllo wörld ✓\\r\\n"},"event":"log","version":"5.1","event_id":"16"}\n\n' +
  "id: 2\r\nevent: event\r\ndata: two\r\ndata\r\ndata: lines\r\n\r\n" +
  "id: 3\nevent: end\ndata\n\n";

const EXPECTED = [
  { id: "0", event: "event", data: '{"data":{"status":"started","time":1774994819},"event":"status","version":"1.0","event_id":"0"}' },
  { id: "1", event: "event", data: '{"data":{"time":1774994823,"origin":{"id":"69b7cd6b","source":"stdout"},"payload":"héllo wörld ✓\\r\\n"},"event":"log","version":"5.1","event_id":"16"}' },
  { id: "2", event: "event", data: "two\n\nlines" },
  { id: "3", event: "end", data: "" },
];

test("28.2: the SSE parser reads Concourse's stream whole, or split into chunks at any byte (inside a line or a UTF-8 character)", () => {
  const bytes = Buffer.from(STREAM, "utf8");
  expect(new SseParser().push(bytes)).toEqual(EXPECTED);
  for (let cut = 1; cut < bytes.length; cut++) {
    const parser = new SseParser();
    expect([...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))]).toEqual(EXPECTED);
  }
  const oneByOne = new SseParser();
  expect([...bytes].flatMap((byte) => oneByOne.push(Buffer.from([byte])))).toEqual(EXPECTED);
});

test("28.2: envelopes become typed events; an unknown type is passed on as other, an unknown major version of a known one is refused", () => {
  expect(parseEnvelope(1, EXPECTED[1]!.data)).toEqual({ id: 1, version: "5.1", event: "log", data: { time: 1774994823, origin: { id: "69b7cd6b", source: "stdout" }, payload: "héllo wörld ✓\r\n" } });
  expect(parseEnvelope(4, '{"data":{"time":1,"origin":{"id":"a"},"selected_worker":"w1"},"event":"selected-worker","version":"1.0","event_id":"9"}')).toEqual({
    id: 4,
    version: "1.0",
    event: "other",
    type: "selected-worker",
    data: { time: 1, origin: { id: "a" }, selected_worker: "w1" },
  });
  expect(parseEnvelope(5, '{"data":{"time":1},"event":"log","version":"6.0","event_id":"9"}')).toBe('event 5 is "log" version 6.0; rbuild reads version 5.x');
  expect(parseEnvelope(6, "not json")).toBe("event 6 is not JSON");
});

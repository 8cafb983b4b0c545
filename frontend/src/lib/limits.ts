// The server's limits, mirrored so the form can say what to change before sending.
/** shared/text.py MAX_TEXT_CHARS: the longest text /v1/verify accepts (422 beyond). */
export const MAX_TEXT_CHARS = 20_000;
/** gateway/config.py max_body_bytes: the largest request body (413 beyond). */
export const MAX_BODY_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** The size of the JSON body that /v1/verify would receive for this text. */
export const bodyBytes = (text: string): number => encoder.encode(JSON.stringify({ text })).length;

// In-memory hand-over between pages (never persisted): e.g. the tracking number and access
// token from the Lapor page to the Lacak page, so the token never appears in the URL.
export const memory = {
  tracking: null, // {tracking_id, access_token}
  sentResults: [], // answers to drafts sent by the outbox, until the Lapor page shows them
};

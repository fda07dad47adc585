/**
 * What `/.well-known/fastly/demo-manifest` serves: Fastly's demo format, YAML front matter
 * (schemaVersion 1) followed by Markdown that explains the demo.
 */
export const DEMO_MANIFEST = `---
schemaVersion: 1
id: grip-leaderboard
title: Live leaderboards with Fanout
description: |
  Leaderboards that update in every open browser the moment a score changes. Fastly Compute hands
  each live stream to Fanout, which holds the connection; the origin publishes one message per
  change and Fanout fans it out to every viewer.
views:
  endUser:
    mode: frame
    href: /
    height: 600
sessions: false
---

## What's happening here?

Open the same board in two windows and press **+1** in one: the other updates at once.

- \`GET /boards/<id>/\` with \`Accept: text/event-stream\` is handed off to **Fanout**
  (\`createFanoutHandoff\`). The origin answers it with GRIP hold instructions (\`Grip-Hold: stream\`,
  \`Grip-Channel: board-<id>\`), and Fanout keeps the SSE connection open. The first event is a
  \`snapshot\` of the board; every score change becomes an \`update\` event.
- Everything else (the web app, the JSON API, \`+1\`) goes straight to the origin backend. Hashed
  assets are cached at the edge for a year; API responses only when the origin says so.
- The origin publishes each change once to Fanout's publish API. It never holds a connection, so
  it can restart while viewers stay connected.

Locally the same wasm runs in Viceroy, with Pushpin standing in for Fanout.
`;

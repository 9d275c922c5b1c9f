// connect.js — "Connect your app": the exact SDK set-up for this server's
// address and a write key (GET /api/v1/keys). Each snippet uses the route
// that SDK already posts to (docs/ingest.md): Segment and RudderStack
// /v1/batch, PostHog /batch/ and /e/, Mixpanel /track and /engage, Amplitude
// /2/httpapi.
import { api } from '../api.js';
import { field, h, panel, select } from '../dom.js';
import { fill, section } from './util.js';

export function snippets(origin, key) {
  const u = new URL(origin);
  const q = (s) => JSON.stringify(s).replace(/"/g, "'");
  return [
    {
      id: 'segment', name: 'Segment — @segment/analytics-node', install: 'npm install @segment/analytics-node',
      code: `import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({ writeKey: ${q(key)}, host: ${q(origin)} })

analytics.identify({ userId: 'user_1', traits: { email: 'ada@example.com', created_at: new Date().toISOString() } })
analytics.track({ userId: 'user_1', event: 'Signed Up', properties: { channel: 'organic' } })
analytics.group({ userId: 'user_1', groupId: 'ws_acme', traits: { name: 'Acme', plan: 'free', mrr: 0 } })
analytics.track({ userId: 'user_1', event: 'Project Created', context: { groupId: 'ws_acme' } })

await analytics.closeAndFlush() // before the process exits`,
    },
    {
      id: 'posthog-node', name: 'PostHog — posthog-node', install: 'npm install posthog-node',
      code: `import { PostHog } from 'posthog-node'

const posthog = new PostHog(${q(key)}, { host: ${q(origin)} })

posthog.capture({ distinctId: 'user_1', event: 'Signed Up', properties: { channel: 'organic' } })
posthog.groupIdentify({ groupType: 'workspace', groupKey: 'ws_acme', distinctId: 'user_1', properties: { name: 'Acme', plan: 'free', mrr: 0 } })
posthog.capture({ distinctId: 'user_1', event: 'Project Created', groups: { workspace: 'ws_acme' } })

await posthog.shutdown() // flushes`,
    },
    {
      id: 'posthog-js', name: 'PostHog — posthog-js (browser)', install: 'npm install posthog-js',
      code: `import posthog from 'posthog-js'

posthog.init(${q(key)}, {
  api_host: ${q(origin)},
  autocapture: false,
  disable_session_recording: true,
  advanced_disable_decide: true, // Flywheel has no feature flags
  advanced_disable_feature_flags: true,
})

posthog.identify('user_1', { email: 'ada@example.com' })
posthog.group('workspace', 'ws_acme', { name: 'Acme' })
posthog.capture('Project Created')`,
      note: 'The browser posts from your site\'s origin and Flywheel sends no CORS headers yet: serve Flywheel under your site\'s origin (a reverse-proxy path) and use that URL as api_host.',
    },
    {
      id: 'rudderstack', name: 'RudderStack — @rudderstack/rudder-sdk-node', install: 'npm install @rudderstack/rudder-sdk-node',
      code: `import Analytics from '@rudderstack/rudder-sdk-node'

const client = new Analytics(${q(key)}, { dataPlaneUrl: ${q(origin)}, path: '/v1/batch' })

client.identify({ userId: 'user_1', traits: { email: 'ada@example.com', created_at: new Date().toISOString() } })
client.track({ userId: 'user_1', event: 'Signed Up', properties: { channel: 'organic' } })
client.group({ userId: 'user_1', groupId: 'ws_acme', traits: { name: 'Acme', plan: 'free', mrr: 0 } })

await client.flush()`,
    },
    {
      id: 'mixpanel', name: 'Mixpanel — mixpanel (Node)', install: 'npm install mixpanel',
      code: `const Mixpanel = require('mixpanel')

const mixpanel = Mixpanel.init(${q(key)}, { host: ${q(u.host)}, protocol: ${q(u.protocol.replace(':', ''))} })

mixpanel.people.set('user_1', { $email: 'ada@example.com', $created: new Date().toISOString(), workspace_id: 'ws_acme' })
mixpanel.track('Signed Up', { distinct_id: 'user_1', channel: 'organic' })
mixpanel.track('Project Created', { distinct_id: 'user_1', workspace_id: 'ws_acme' }) // the account`,
    },
    {
      id: 'amplitude', name: 'Amplitude — @amplitude/analytics-node', install: 'npm install @amplitude/analytics-node',
      code: `import { init, track, identify, Identify, flush } from '@amplitude/analytics-node'

init(${q(key)}, { serverUrl: ${q(`${origin}/2/httpapi`)} })

identify(new Identify().set('email', 'ada@example.com'), { user_id: 'user_1' })
track('Signed Up', { channel: 'organic' }, { user_id: 'user_1' })
track('Project Created', {}, { user_id: 'user_1', groups: { workspace: 'ws_acme' } })

await flush().promise`,
    },
    {
      id: 'curl', name: 'curl — any language over HTTP', install: null,
      code: `curl -u ${key}: ${origin}/v1/track \\
  -H 'Content-Type: application/json' \\
  -d '{"event":"Signed Up","userId":"user_1","properties":{"channel":"organic"}}'`,
    },
  ];
}

function copyButton(getText) {
  const b = h('button', {
    class: 'copy',
    onclick: async () => {
      const text = getText();
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        // no clipboard API over plain http: select and copy the old way
        const ta = h('textarea', { style: { position: 'fixed', opacity: '0' } }, text);
        document.body.append(ta);
        ta.select();
        document.execCommand('copy');
        ta.remove();
      }
      b.textContent = 'Copied';
      setTimeout(() => { b.textContent = 'Copy'; }, 1500);
    },
  }, 'Copy');
  return b;
}

export default {
  title: 'Connect your app',
  async render(root, ctx) {
    const body = h('div');
    root.append(body);
    return section(body, async () => {
      const { write_keys: keys } = await api.get('/api/v1/keys');
      if (ctx.stale()) return;
      const origin = location.origin;
      const idx = Math.min(Math.max(0, parseInt(ctx.params.key || '0', 10) || 0), Math.max(0, keys.length - 1));
      const key = keys[idx] || 'WRITE_KEY';
      fill(body,
        h('p', { class: 'page-note' }, 'Point the analytics SDK you already use at this server: it accepts their requests unchanged. Write keys can only send events; keep the secret key for reading. Events show up under "Live events" as soon as they are stored.'),
        h('div', { class: 'toolbar' },
          field('Server', h('code', { class: 'origin' }, origin)),
          keys.length > 1 ? field('Write key', select(idx, keys.map((k, i) => [i, k]), (v) => ctx.go({ key: v === '0' ? undefined : v }), { class: 'key-select' })) : field('Write key', h('code', { class: 'write-key' }, key))),
        keys.length ? null : h('div', { class: 'error-box' }, 'This server has no write key configured; set FLYWHEEL_WRITE_KEY or keys.write.'),
        snippets(origin, key).map((s) => panel(s.name, h('div', null,
          s.install ? h('pre', { class: 'install' }, h('code', null, s.install)) : null,
          h('div', { class: 'snippet' }, copyButton(() => s.code), h('pre', null, h('code', { 'data-sdk': s.id }, s.code))),
          s.note ? h('p', { class: 'note' }, s.note) : null), { id: `sdk-${s.id}` })));
    });
  },
};

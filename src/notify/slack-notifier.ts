import { IncomingWebhook } from '@slack/webhook';
import type { LoadedJob } from '../spec/load-job.js';
import { redact, resolveSecrets } from '../spec/secrets.js';
import type { RunRecord, StateStore } from '../state/store.js';
import { logTail, slackMessage, type NotifyEvent } from './slack-message.js';

export interface SlackNotifierOptions {
  store: StateStore;
  home: string;
  /** Base URL of the server's UI, for links to runs (`--public-url`). */
  publicUrl?: string;
  /** Per-request timeout and retries: a Slack outage delays a run's end by at most about (retries+1) × timeout. */
  timeoutMs?: number;
  retries?: number;
}

const CHANNEL = 'slack';

/**
 * The run-end hook behind `notify.slack`: one message when a job starts failing (not one per retry or
 * per failed run: the incident is kept in the state store until a success closes it), and one when it
 * recovers. Sending is bounded (short timeout, two retries); a failure to post throws, and the runtime
 * logs it without failing the run. The webhook URL is a secret and never appears in what is thrown.
 */
export function slackNotifier(options: SlackNotifierOptions): (run: RunRecord, job: LoadedJob) => Promise<void> {
  return async (run, job) => {
    const slack = job.spec.notify?.slack;
    if (!slack) return;
    const on = new Set<NotifyEvent>(slack.on);
    const { store } = options;
    let event: NotifyEvent | null = null;
    let incident = null;
    if (run.status === 'failed') {
      const kind: NotifyEvent = run.error?.retryable === false ? 'fatal' : 'failure';
      // The failed run that opens the incident is the one that tells Slack; later ones stay quiet.
      const opened = await store.openIncident({ tenant: run.tenant, job: run.job, channel: CHANNEL, openedBy: run.id, openedAt: run.finishedAt ?? new Date().toISOString() });
      if (opened && (on.has('failure') || (kind === 'fatal' && on.has('fatal')))) event = kind;
    } else if (run.status === 'succeeded') {
      incident = await store.closeIncident(run.tenant, run.job, CHANNEL);
      if (incident && on.has('recovery')) event = 'recovery';
      else if (!incident && on.has('success')) event = 'success';
    }
    if (!event) return;
    const failing = event === 'failure' || event === 'fatal';
    const message = slackMessage({
      event, run, incident,
      attempts: failing ? await store.listAttempts(run.id) : [],
      tail: failing ? await logTail(options.home, run.id) : [],
      ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
      ...(slack.channel ? { channel: slack.channel } : {}),
    });
    let url: string | undefined;
    try {
      url = resolveSecrets(slack.webhook, job.baseDir);
      const retries = options.retries ?? 2;
      await new IncomingWebhook(url, { timeout: options.timeoutMs ?? 5000, retryConfig: { retries, factor: 2, minTimeout: 250, maxTimeout: 2000 } }).send(message);
    } catch (err) {
      // Slack never heard of this incident: let the next failed run announce it.
      if (failing) await store.closeIncident(run.tenant, run.job, CHANNEL);
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`Slack ${event} message for run ${run.id} not sent: ${scrub(reason, url)}`);
    }
  };
}

/** The webhook URL is the credential: take it (and any part of it a library quoted) out of the text. */
function scrub(text: string, url: string | undefined): string {
  let out = redact(text);
  if (url) {
    out = out.split(url).join('***');
    const path = url.replace(/^[a-z]+:\/\/[^/]+/i, '');
    if (path.length > 8) out = out.split(path).join('***');
  }
  return out;
}

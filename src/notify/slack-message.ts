import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { followRunLog } from '../log/follow-run-log.js';
import { formatLogEntry } from '../log/run-log.js';
import { redact } from '../spec/secrets.js';
import type { IncidentRecord, RunRecord, StageAttemptRecord } from '../state/store.js';

export type NotifyEvent = 'failure' | 'fatal' | 'recovery' | 'success';

const TAIL_LINES = 10;
const MAX_LINE = 300;

/** The run's last log lines, read through once (memory stays flat however long the log is). */
export async function logTail(home: string, runId: string, lines = TAIL_LINES): Promise<string[]> {
  const tail: string[] = [];
  for await (const e of followRunLog(home, runId)) {
    const line = formatLogEntry(e);
    tail.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE - 1) + '…' : line);
    if (tail.length > lines) tail.shift();
  }
  return tail;
}

/** `<url|text>` escaping: Slack mrkdwn treats &, < and > as control characters. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface MessageInput {
  event: NotifyEvent;
  run: RunRecord;
  attempts: StageAttemptRecord[];
  tail: string[];
  /** Base URL of the web UI/API, for a link to the run. */
  publicUrl?: string;
  /** The incident a recovery closes. */
  incident?: IncidentRecord | null;
  channel?: string;
}

export function runLink(publicUrl: string | undefined, runId: string): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}` : null;
}

/** One Slack message: a plain `text` (notifications, screen readers) and blocks with the details. */
export function slackMessage(m: MessageInput): IncomingWebhookSendArguments {
  const { run } = m;
  const link = runLink(m.publicUrl, run.id);
  const runRef = link ? `<${link}|${run.id}>` : run.id;
  const stage = run.error?.stage ?? null;
  const attempt = stage ? Math.max(0, ...m.attempts.filter((a) => a.stage === stage).map((a) => a.attempt)) : null;
  const title =
    m.event === 'recovery' ? `:white_check_mark: ${run.job} recovered` :
    m.event === 'success' ? `:white_check_mark: ${run.job} succeeded` :
    `:${m.event === 'fatal' ? 'rotating_light' : 'x'}: ${run.job} ${m.event === 'fatal' ? 'failed (not retryable)' : 'failed'}`;
  const fields = [
    `*Job*\n${esc(run.job)} (tenant ${esc(run.tenant)})`,
    `*Run*\n${runRef}`,
    ...(stage ? [`*Stage*\n${stage}${attempt ? ` (attempt ${attempt})` : ''}`] : []),
    ...(run.slot ? [`*Slot*\n${run.slot}`] : []),
    ...(m.event === 'recovery' && m.incident ? [`*Failing since*\n${m.incident.openedAt} (run ${m.incident.openedBy})`] : []),
  ];
  const blocks: NonNullable<IncomingWebhookSendArguments['blocks']> = [
    { type: 'header', text: { type: 'plain_text', text: title.replace(/:[a-z_]+: /, '').slice(0, 150) } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (run.error && (m.event === 'failure' || m.event === 'fatal')) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Error* \`${esc(run.error.name)}\`\n${esc(run.error.message).slice(0, 2500)}` } });
  }
  if (m.tail.length > 0 && (m.event === 'failure' || m.event === 'fatal')) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '*Last log lines*\n```' + esc(m.tail.join('\n')).slice(-2800) + '```' } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: link ? `<${link}|Open the run>` : `\`datamill show ${run.id}\` · \`datamill logs ${run.id}\`` }] });
  const summary = run.error && (m.event === 'failure' || m.event === 'fatal') ? `: ${stage ? stage + ': ' : ''}${run.error.message}` : '';
  const message: IncomingWebhookSendArguments = { text: `${title} (run ${run.id})${summary}`.slice(0, 3000), blocks, ...(m.channel ? { channel: m.channel } : {}) };
  // Everything the message quotes passed through logs or the store, but scrub once more on the way out.
  return JSON.parse(redact(JSON.stringify(message))) as IncomingWebhookSendArguments;
}

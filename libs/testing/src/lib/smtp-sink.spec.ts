import { connect } from 'node:net';

import { startSmtpSink } from './smtp-sink';

/** Speaks SMTP line by line, waiting for each reply, as a mailer does. */
async function converse(port: number, lines: readonly string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  const replies: string[] = [];
  let buffer = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    // A reply is complete at a line whose code is followed by a space (not "250-").
    while (/^\d{3} .*\r\n/m.test(buffer)) {
      const end = buffer.search(/^\d{3} .*\r\n/m);
      const lineEnd = buffer.indexOf('\r\n', end) + 2;
      replies.push(buffer.slice(0, lineEnd).trim());
      buffer = buffer.slice(lineEnd);
      waiting?.();
    }
  });
  const next = () =>
    new Promise<void>(resolve => {
      const count = replies.length;
      waiting = () => replies.length > count && resolve();
    });
  await next();
  for (const line of lines) {
    const reply = next();
    socket.write(`${line}\r\n`);
    await reply;
  }
  socket.end();
  return replies;
}

describe('startSmtpSink', () => {
  it('accepts a message and keeps sender, recipients and data (dot-stuffing undone)', async () => {
    const sink = await startSmtpSink();
    try {
      const replies = await converse(sink.port, [
        'EHLO test',
        'MAIL FROM:<vigil@plant.test>',
        'RCPT TO:<a@plant.test>',
        'RCPT TO:<b@plant.test>',
        'DATA',
        'Subject: test\r\n\r\nline one\r\n..starts with a dot\r\n.',
        'QUIT',
      ]);
      expect(replies[0]).toMatch(/^220 /);
      expect(replies[1]).toMatch(/^250-vigil-smtp-sink[\s\S]*250 SMTPUTF8$/);
      expect(replies[5]).toMatch(/^354 /);
      expect(replies.at(-2)).toMatch(/^250 OK: queued/);
      expect(replies.at(-1)).toMatch(/^221 /);
      expect(sink.mails).toEqual([
        {
          from: 'vigil@plant.test',
          to: ['a@plant.test', 'b@plant.test'],
          data: 'Subject: test\r\n\r\nline one\r\n.starts with a dot',
        },
      ]);
    } finally {
      await sink.stop();
    }
  });
});

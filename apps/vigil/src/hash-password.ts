import { hashPassword } from '@vigil/server';

// Prints the scrypt hash of a password for the users file (VIGIL_USERS): reads it from stdin so
// that it does not end up in the shell history.
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', chunk => (input += chunk));
process.stdin.on('end', () => {
  const password = input.replace(/\r?\n$/, '');
  if (password.length < 8) {
    process.stderr.write('a password needs at least 8 characters\n');
    process.exit(2);
  }
  process.stdout.write(`${hashPassword(password)}\n`);
});

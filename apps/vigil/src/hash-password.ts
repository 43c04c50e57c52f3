import { hashPassword, passwordProblems } from '@vigil/server';

// Prints the scrypt hash of a password for the users file (VIGIL_USERS), with the date to put in
// its `passwordChangedAt`: reads the password from stdin so that it does not end up in the shell
// history. `npm run hash-password -- <user id>` also refuses a password containing the user id.
const userId = process.argv[2];
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', chunk => (input += chunk));
process.stdin.on('end', () => {
  const password = input.replace(/\r?\n$/, '');
  const problems = passwordProblems(password, userId);
  if (problems.length > 0) {
    process.stderr.write(`password refused: ${problems.join('; ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`${hashPassword(password)}\n`);
  process.stderr.write(`passwordChangedAt: ${new Date().toISOString().slice(0, 10)}\n`);
});

/**
 * `decodeBase64` reads user data as Nova does (Python's non-strict `base64.b64decode`): each row's
 * answer is what Python 3.11 gave for the same text (hex bytes, or an error).
 */
import t from 'tap';
import { decodeBase64 } from '../../protocols/user-data.js';
import { pyRepr } from '../../actors/api/compute/user-data.js';

const PYTHON: [string, string | 'error'][] = [
  ['', ''],
  ['aGVsbG8=', '68656c6c6f'],
  ['aGVsbG8', 'error'], // Incorrect padding
  ['aGVsbG8==', '68656c6c6f'],
  ['aGVs bG8=\n', '68656c6c6f'], // characters outside the alphabet are skipped
  ['Zm9v\r\nYmFy', '666f6f626172'],
  ['A random string', 'error'], // 13 data characters
  ['!!!!x', 'error'],
  ['a-b_c.dA==', 'error'], // URL-safe letters are not the alphabet
  ['QQ==junk', '41'], // padding that completes a quantum ends the data
  ['QQ==QUJD', '41'],
  ['QUJ=D', '4142'],
  ['QQ=', 'error'],
  ['Q===', 'error'],
  ['=QQ==', '41'], // a pad before any data is skipped
  ['====', ''],
  ['Q', 'error'],
  ['QUI=', '4142'],
  ['QUJD', '414243'],
];

t.test("decodeBase64 accepts and decodes exactly what Python's b64decode does", async (t) => {
  for (const [text, want] of PYTHON) {
    const got = decodeBase64(text);
    t.equal(got === undefined ? 'error' : Buffer.from(got).toString('hex'), want, JSON.stringify(text));
  }
  t.equal(decodeBase64('aGVsbG8=é'), undefined, 'non-ASCII text is refused (Python raises on it)');
  const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
  t.same(Buffer.from(decodeBase64(bytes.toString('base64'))!), bytes, 'round trip of every byte value');
});

t.test("pyRepr quotes as Python's repr does", async (t) => {
  t.equal(pyRepr('abc'), "'abc'");
  t.equal(pyRepr("it's"), '"it\'s"');
  t.equal(pyRepr(`it's "x"`), `'it\\'s "x"'`);
  t.equal(pyRepr('a\nb\\'), "'a\\nb\\\\'");
  t.equal(pyRepr('\x01'), "'\\x01'");
});

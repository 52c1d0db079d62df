/**
 * Globs over S3 keys, where `/` is only a character: `*` and `?` stop at `/` as in a file system,
 * `**` crosses it, `[abc]`/`[!abc]` and `{a,b}` as in shells. The literal text before the first glob
 * character is the listing prefix, so only that part of the bucket is listed.
 */
const GLOB_CHARS = /[*?[{]/;
const escape = (text: string) => text.replace(/[.+^${}()|[\]\\*?/]/g, '\\$&');

export function isGlob(key: string): boolean {
  return GLOB_CHARS.test(key);
}

export function globPrefix(glob: string): string {
  const at = glob.search(GLOB_CHARS);
  return at === -1 ? glob : glob.slice(0, at);
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' && glob.indexOf(']', i + 2) !== -1) {
      const end = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, end);
      re += `[${body.startsWith('!') ? '^' + body.slice(1).replace(/\\/g, '\\\\') : body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '{' && glob.indexOf('}', i) !== -1) {
      const end = glob.indexOf('}', i);
      re += `(?:${glob.slice(i + 1, end).split(',').map(escape).join('|')})`;
      i = end;
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`, 's');
}

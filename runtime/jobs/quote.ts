/** Characters sh gives no meaning to outside quotes: a word of only these needs no quoting. */
export const SHELL_BARE = "A-Za-z0-9_./:=@%+,-";
const BARE_WORD = new RegExp(`^[${SHELL_BARE}]+$`);

/** Shell-quotes one word for `sh -c`: safe words stay bare, the rest go in single quotes. */
export function shellQuote(word: string): string {
  if (word !== "" && BARE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

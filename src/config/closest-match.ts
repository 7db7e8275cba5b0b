/**
 * "Did you mean …?" for unknown keys and mistyped enum values: the candidate with the
 * smallest edit distance, when it is close enough to be a plausible typo.
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment: `mdp` is one
 * edit from `mpd`), case-insensitive; `-` and `_` count as the same character.
 */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase().replaceAll('-', '_');
  const y = b.toLowerCase().replaceAll('-', '_');
  let before: number[] = [];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      row[j] = d;
    }
    before = prev;
    prev = row;
  }
  return prev[y.length]!;
}

/** The closest candidate within a third of the word's length (at least 2 edits), if any. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/**
 * A multi-line message with each distinct line once, on one line. libvips' error buffer collects a line per failed
 * attempt (a truncated JPEG says "premature end of JPEG image" three times among other repeats); a line already said,
 * alone or inside an earlier one ("…corrupt header: VipsJpeg: premature end…"), is dropped.
 */
export function distinctLines(message: string): string {
  const lines = message
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const kept: string[] = [];
  for (const line of lines) if (!kept.some((k) => k.includes(line))) kept.push(line);
  return kept.join('; ');
}

// How many API server requests this process has sent (each attempt, each watch connection): the seam that
// sends them counts, and the job summary's steps show how many each step sent, so that where a deploy's
// requests go is visible next to where its time goes.

let sent = 0;

export function countRequest(): void {
  sent++;
}

export function requestsSent(): number {
  return sent;
}

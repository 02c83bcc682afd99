// A progress count on stderr: one line updated in place on a terminal, plain lines otherwise (a log, a pipe).
export interface Progress {
  update(done: number): void;
  end(): void;
}

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  let shown = false;
  return {
    update(done) {
      shown = true;
      stream.write(tty ? `\r\x1b[K${label} ${done}/${total}` : `${label} ${done}/${total}\n`);
    },
    end() {
      if (tty && shown) stream.write('\n');
    },
  };
}

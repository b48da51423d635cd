// A clock that ticks once a second while something on screen counts down.
class Clock {
  now = $state(Date.now() / 1000);
  private users = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** For an $effect: start ticking, and return the stop function. */
  use(): () => void {
    this.users++;
    this.now = Date.now() / 1000;
    this.timer ??= setInterval(() => (this.now = Date.now() / 1000), 1000);
    return () => {
      if (--this.users === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }
}

export const clock = new Clock();

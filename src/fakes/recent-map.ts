// A map that keeps only recent entries: the last `size` to 2 × `size` set, in two generations. O(1) per set: evicting
// one by one from a Map that churns makes each `keys().next()` walk the slots deleted before it.

export class RecentMap<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  constructor(private readonly size: number) {}

  set(key: string, value: V): void {
    if (this.current.size >= this.size) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  get(key: string): V | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  clear(): void {
    this.current = new Map();
    this.previous = new Map();
  }
}

// A tiny fake of the DOM the simulation webview uses (client/webview/render.ts and main.ts): elements, text nodes,
// attributes, classes, click and keydown listeners, focus. It refuses innerHTML, outerHTML writes and
// insertAdjacentHTML, so any markup path in the webview code fails the test, and it serialises with escaping so
// tests can check what the page would contain.

type Listener = (e: FakeEvent) => void;

export interface FakeEvent {
  type: string;
  key?: string;
  target: FakeElement | null;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  defaultPrevented: boolean;
  preventDefault(): void;
}

const esc = (s: string, attr = false) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(attr ? /"/g : /$^/g, '&quot;');

export class FakeText {
  readonly nodeType = 3;
  constructor(public data: string) {}
  get textContent(): string {
    return this.data;
  }
  serialize(): string {
    return esc(this.data);
  }
}

class FakeClassList {
  constructor(private readonly el: FakeElement) {}
  private get list(): string[] {
    return (this.el.getAttribute('class') ?? '').split(/\s+/).filter(Boolean);
  }
  contains(c: string): boolean {
    return this.list.includes(c);
  }
  add(c: string): void {
    if (!this.contains(c)) this.el.setAttribute('class', [...this.list, c].join(' '));
  }
  remove(c: string): void {
    this.el.setAttribute('class', this.list.filter((x) => x !== c).join(' '));
  }
  toggle(c: string, force?: boolean): boolean {
    const on = force ?? !this.contains(c);
    if (on) this.add(c);
    else this.remove(c);
    return on;
  }
}

export class FakeElement {
  readonly nodeType = 1;
  readonly tagName: string;
  children: (FakeElement | FakeText)[] = [];
  parent: FakeElement | undefined;
  readonly attributes = new Map<string, string>();
  readonly listeners = new Map<string, Listener[]>();
  readonly classList = new FakeClassList(this);
  readonly style = { props: new Map<string, string>(), setProperty(k: string, v: string) { this.props.set(k, v); } };
  scrolled = 0;

  constructor(readonly ownerDocument: FakeDocument, tag: string) {
    this.tagName = tag.toUpperCase();
  }

  get className(): string {
    return this.getAttribute('class') ?? '';
  }
  set className(v: string) {
    this.setAttribute('class', v);
  }
  get id(): string {
    return this.getAttribute('id') ?? '';
  }
  get disabled(): boolean {
    return this.attributes.has('disabled');
  }
  set disabled(v: boolean) {
    if (v) this.setAttribute('disabled', '');
    else this.removeAttribute('disabled');
  }
  setAttribute(k: string, v: string): void {
    this.attributes.set(k.toLowerCase(), String(v));
  }
  getAttribute(k: string): string | null {
    return this.attributes.get(k.toLowerCase()) ?? null;
  }
  removeAttribute(k: string): void {
    this.attributes.delete(k.toLowerCase());
  }
  appendChild<T extends FakeElement | FakeText>(c: T): T {
    if (!(c instanceof FakeElement) && !(c instanceof FakeText)) throw new Error(`appendChild of a ${typeof c}`);
    if (c instanceof FakeElement) c.parent = this;
    this.children.push(c);
    return c;
  }
  append(...cs: (FakeElement | FakeText)[]): void {
    for (const c of cs) this.appendChild(c);
  }
  replaceChildren(...cs: (FakeElement | FakeText)[]): void {
    this.children = [];
    for (const c of cs) this.appendChild(c);
  }
  get textContent(): string {
    return this.children.map((c) => c.textContent).join('');
  }
  set textContent(v: string) {
    this.children = [new FakeText(String(v))];
  }
  get innerHTML(): string {
    return this.children.map((c) => c.serialize()).join('');
  }
  set innerHTML(_v: string) {
    throw new Error('innerHTML is not allowed in the webview');
  }
  get outerHTML(): string {
    return this.serialize();
  }
  set outerHTML(_v: string) {
    throw new Error('outerHTML is not allowed in the webview');
  }
  insertAdjacentHTML(): void {
    throw new Error('insertAdjacentHTML is not allowed in the webview');
  }
  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  dispatch(e: FakeEvent): void {
    for (const fn of this.listeners.get(e.type) ?? []) fn(e);
  }
  click(): void {
    this.dispatch(event('click', this));
  }
  focus(): void {
    this.ownerDocument.activeElement = this;
  }
  scrollIntoView(): void {
    this.scrolled++;
  }
  serialize(): string {
    const attrs = [...this.attributes].map(([k, v]) => ` ${k}="${esc(v, true)}"`).join('');
    const tag = this.tagName.toLowerCase();
    return `<${tag}${attrs}>${this.innerHTML}</${tag}>`;
  }
  /** Every element below this one, depth first. */
  all(): FakeElement[] {
    return this.children.flatMap((c) => (c instanceof FakeElement ? [c, ...c.all()] : []));
  }
  byClass(c: string): FakeElement[] {
    return this.all().filter((e) => e.classList.contains(c));
  }
  texts(): string[] {
    return this.children.flatMap((c) => (c instanceof FakeText ? [c.data] : c.texts()));
  }
}

export function event(type: string, target: FakeElement | null, key?: string): FakeEvent {
  return {
    type, key, target, altKey: false, ctrlKey: false, metaKey: false, defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

export class FakeDocument {
  activeElement: FakeElement | null = null;
  readonly body: FakeElement;
  private readonly listeners = new Map<string, Listener[]>();

  constructor() {
    this.body = new FakeElement(this, 'body');
    const app = this.createElement('div');
    app.setAttribute('id', 'app');
    this.body.appendChild(app);
  }
  createElement(tag: string): FakeElement {
    return new FakeElement(this, tag);
  }
  createTextNode(s: string): FakeText {
    return new FakeText(String(s));
  }
  getElementById(id: string): FakeElement | null {
    return this.body.all().find((e) => e.id === id) ?? null;
  }
  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  /** A key press on the focused element (or the body), as the browser delivers it to document listeners. */
  key(key: string, target: FakeElement | null = this.activeElement ?? this.body): FakeEvent {
    const e = event('keydown', target, key);
    for (const fn of this.listeners.get('keydown') ?? []) fn(e);
    return e;
  }
  write(): void {
    throw new Error('document.write is not allowed in the webview');
  }
}

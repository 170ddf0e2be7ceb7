/** What `h` accepts as props: `class`, `on<event>` listeners, and attributes (null, undefined and false skipped). */
export type Props = Readonly<Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>>;
export type Child = Node | string | null | undefined;

/**
 * An element with props and children (nodes or text; null skipped). Server text reaches the DOM only as text nodes
 * or attribute values, never as HTML.
 */
export function h(tag: string, props?: Props | null, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** The element with that id; the page's shell (index.html) has them all. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node as T;
}

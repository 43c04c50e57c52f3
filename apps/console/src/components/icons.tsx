/** Inline icons: no icon fonts or emoji fonts are needed on a closed network. */
export function BellIcon(props: { off?: boolean }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
      <path
        d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"
        fill="currentColor"
      />
      {props.off && <path d="M3 3 21 21" stroke="currentColor" stroke-width="2.2" />}
    </svg>
  );
}

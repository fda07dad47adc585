import type { ComponentProps } from 'react';
import { navigate } from '../app/router.ts';

/** A link to a page of the app, followed without reloading; new tabs and the like work as usual. */
export function Link({ to, onClick, ...props }: ComponentProps<'a'> & { to: string }) {
  return (
    <a
      {...props}
      href={to}
      onClick={(event) => {
        onClick?.(event);
        const plain =
          event.button === 0 &&
          !event.metaKey &&
          !event.ctrlKey &&
          !event.shiftKey &&
          !event.altKey &&
          props.target === undefined;
        if (!plain || event.defaultPrevented) return;
        event.preventDefault();
        navigate(to);
      }}
    />
  );
}

import { useEffect } from 'react';

const appName = 'Leaderboards';

/** Sets the document's title for the page being shown. */
export function useTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title === undefined ? appName : `${title} · ${appName}`;
  }, [title]);
}

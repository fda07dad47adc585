import { type RefObject, useEffect, useLayoutEffect, useRef } from 'react';

const slide: KeyframeAnimationOptions = {
  id: 'flip',
  duration: 450,
  easing: 'cubic-bezier(0.2, 0.8, 0.2, 1)',
};

function prefersReducedMotion(): boolean {
  return window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

function translateY(element: HTMLElement): number {
  const { transform } = getComputedStyle(element);
  return transform === 'none' || transform === '' ? 0 : new DOMMatrixReadOnly(transform).m42;
}

/**
 * Slides the children of `container` marked `data-flip-id` from where they were drawn to where
 * they are now laid out, each time `layoutKey` changes (FLIP: first, last, invert, play). A row
 * caught mid-slide starts its next slide from where it is seen, so bursts of changes stay smooth.
 * New rows fade in. Nothing moves for people who ask for reduced motion.
 */
export function useFlip(container: RefObject<HTMLElement | null>, layoutKey: unknown): void {
  const positions = useRef(new Map<string, number>());

  // biome-ignore lint/correctness/useExhaustiveDependencies: layoutKey is what says rows moved
  useLayoutEffect(() => {
    const root = container.current;
    if (root === null) return;
    const items = [...root.querySelectorAll<HTMLElement>('[data-flip-id]')];
    // All reads first, then all writes: one style pass and one layout pass for the whole list.
    const offsets = items.map(translateY);
    for (const item of items) {
      for (const animation of item.getAnimations()) {
        if (animation.id === 'flip') animation.cancel();
      }
    }
    const rootTop = root.getBoundingClientRect().top;
    const tops = items.map((item) => item.getBoundingClientRect().top - rootTop);
    const previous = positions.current;
    const animate = previous.size > 0 && !prefersReducedMotion();
    const next = new Map<string, number>();
    items.forEach((item, index) => {
      const id = item.dataset.flipId ?? '';
      const top = tops[index] ?? 0;
      next.set(id, top);
      if (!animate) return;
      const before = previous.get(id);
      if (before === undefined) {
        item.animate([{ opacity: 0 }, { opacity: 1 }], { ...slide, duration: 300 });
        return;
      }
      const delta = before + (offsets[index] ?? 0) - top;
      if (Math.abs(delta) < 1) return;
      const animation = item.animate(
        [{ transform: `translateY(${delta}px)` }, { transform: 'translateY(0)' }],
        slide,
      );
      // A climber passes over the rows it overtakes, not under them.
      if (delta > 0) {
        item.style.zIndex = '1';
        const settle = () => {
          item.style.zIndex = '';
        };
        animation.addEventListener('finish', settle);
        animation.addEventListener('cancel', settle);
      }
    });
    positions.current = next;
  }, [layoutKey]);

  // A resize moves rows without any change of rank: take their new places as the starting points.
  useEffect(() => {
    const root = container.current;
    if (root === null) return;
    const observer = new ResizeObserver(() => {
      const rootTop = root.getBoundingClientRect().top;
      const next = new Map<string, number>();
      for (const item of root.querySelectorAll<HTMLElement>('[data-flip-id]')) {
        next.set(
          item.dataset.flipId ?? '',
          item.getBoundingClientRect().top - rootTop - translateY(item),
        );
      }
      positions.current = next;
    });
    observer.observe(root);
    return () => observer.disconnect();
  }, [container]);
}

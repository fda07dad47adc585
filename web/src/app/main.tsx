// The app's shared styles come first: each component's own, imported by it, come after them.
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from '../api/client.ts';
import { App } from './App.tsx';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element to render into');

createRoot(root).render(
  <StrictMode>
    <App api={createApi()} />
  </StrictMode>,
);

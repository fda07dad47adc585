import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { createApi } from './api.ts';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element to render into');

createRoot(root).render(
  <StrictMode>
    <App api={createApi()} />
  </StrictMode>,
);

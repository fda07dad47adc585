import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from '../api/client.ts';
import { App } from './App.tsx';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element to render into');

createRoot(root).render(
  <StrictMode>
    <App api={createApi()} />
  </StrictMode>,
);

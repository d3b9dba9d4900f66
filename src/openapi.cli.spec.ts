import { readFileSync } from 'node:fs';
import { generateOpenApiDocument, OPENAPI_FILE } from './openapi.cli';

describe('openapi.json', () => {
  it('is what the code documents (run `npm run openapi` after changing a route or DTO, and commit it)', async () => {
    const generated = await generateOpenApiDocument();
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    // Compared as text, so that the file cannot drift in form either; parsed first for a readable diff.
    expect(JSON.parse(committed)).toEqual(JSON.parse(generated));
    expect(committed).toBe(generated);
  });
});

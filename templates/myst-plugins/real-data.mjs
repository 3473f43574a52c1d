// mystmd plugin: the "On real data" sections of the article's two builds.
//
// `databook build --data dandi` (DATABOOK_DATA=dandi) keeps them; the default demo build
// replaces each with one line saying what it holds and how to build it, so that the demo
// article shows no half-rendered section (no figure that was not drawn, no number that
// was not computed).
//
//   ::::{real-data} ALM units of DANDI:000006 aligned to the go cue.
//   ...markdown, figures of real-data scripts, {eval} numbers...
//   ::::
//
// Code cells of such a section carry `:tags: [real-data]`: they run in both builds (the
// kernel executes before this plugin's transform; they must do nothing without real data)
// and are dropped from the demo build's pages.

const isDandi = () => process.env.DATABOOK_DATA === 'dandi';
const TAG = 'real-data';

const realDataDirective = {
  name: 'real-data',
  doc: 'A section drawn from real data: kept in a dandi build, one line in a demo build.',
  arg: { type: 'myst', doc: 'What the section holds, in one line (shown in the demo build).' },
  body: { type: 'myst', doc: 'The section, as it appears in the real-data build.' },
  run(data) {
    if (isDandi()) return data.body ?? [];
    const what = data.arg ?? [];
    const inline = what.length === 1 && what[0].type === 'paragraph' ? what[0].children : what;
    return [
      {
        type: 'paragraph',
        class: 'databook-real-data-note',
        children: [
          { type: 'strong', children: [{ type: 'text', value: 'In the real-data build:' }] },
          { type: 'text', value: ' ' },
          ...inline,
          { type: 'text', value: ' Build it with ' },
          { type: 'inlineCode', value: 'make article DATA=dandi' },
          { type: 'text', value: ' (or databook build --data dandi).' },
        ],
      },
    ];
  },
};

const dropRealDataCells = {
  name: 'databook-drop-real-data-cells',
  doc: 'Remove the code cells tagged real-data from the pages of a demo build.',
  stage: 'document',
  plugin: () => (tree) => {
    if (isDandi()) return;
    tree.children = (tree.children ?? []).filter(
      (node) => !(node.type === 'block' && (node.data?.tags ?? []).includes(TAG)),
    );
  },
};

export default {
  name: 'databook real-data sections',
  directives: [realDataDirective],
  transforms: [dropRealDataCells],
};

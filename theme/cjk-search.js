// The search's Chinese (and the English book's quotes of the notes).
//
// mdBook's search (elasticlunr) cuts a query into words at spaces and
// hyphens, then trims from each word's ends everything but [0-9a-zA-Z_]:
// a Chinese word such as 粘包 comes out empty, and the search finds nothing.
// scripts/book adds every section's Chinese to the search index as
// overlapping pairs of characters (粘包是 → 粘包, 包是, plus the run's last
// character alone); this cuts a query the same way, so 粘包 looks up 粘包 and
// 套接字 looks up 套接 and 接字. A single character finds every pair it
// starts (the search matches a query word as a prefix). Latin words are cut
// and trimmed as before.
//
// scripts/book puts this at the top of the search index file (searchindex-
// *.js), not in the page: mdBook's searcher loads that file asynchronously
// and reads it at once, possibly before a page's own scripts have run; in
// the file, this runs first, every time (elasticlunr is loaded by then).
(function () {
    "use strict";
    if (typeof elasticlunr === "undefined" || elasticlunr.cjkSearch) {
        return;
    }
    elasticlunr.cjkSearch = true;
    const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;

    function pairs(run) {
        if (run.length === 1) {
            return [run];
        }
        const out = [];
        for (let i = 0; i + 1 < run.length; i++) {
            out.push(run.slice(i, i + 2));
        }
        return out;
    }

    const tokenizer = elasticlunr.tokenizer;
    const cjkTokenizer = function () {
        const out = [];
        for (const word of tokenizer.apply(this, arguments)) {
            const runs = word.match(HAN);
            if (!runs) {
                out.push(word);
                continue;
            }
            for (const rest of word.replace(HAN, " ").split(" ")) {
                if (rest) {
                    out.push(rest);
                }
            }
            for (const run of runs) {
                out.push(...pairs(run));
            }
        }
        return out;
    };
    Object.assign(cjkTokenizer, tokenizer); // its separator and setSeperator
    elasticlunr.tokenizer = cjkTokenizer;

    // The trimmer keeps letters of any script (elasticlunr's \W is ASCII-only).
    const trimmer = function (token) {
        return token.replace(/^[^\p{L}\p{N}_]+/u, "").replace(/[^\p{L}\p{N}_]+$/u, "");
    };
    delete elasticlunr.Pipeline.registeredFunctions.trimmer;
    elasticlunr.Pipeline.registerFunction(trimmer, "trimmer");
    elasticlunr.trimmer = trimmer;
})();

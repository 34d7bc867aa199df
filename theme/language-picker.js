// The language picker in the menu bar: the same page in the other book
// (and, on a Chinese page, the search box's own words in Chinese).
//
// scripts/book builds the English book into target/book/ and each
// translation into target/book/LANG/ with the same layout, so a page's
// counterpart is found by its path below its own book's top: mdbook tells
// every page where that top is (path_to_root), and the page's language
// (<html lang>). Works wherever the books are served, in a subfolder too.
(function () {
    "use strict";
    // [lang, name, folder of that book below the English book's top]
    const LANGUAGES = [
        ["en", "English", ""],
        ["zh-CN", "中文（简体）", "zh-CN/"],
    ];
    const bar = document.querySelector("#mdbook-menu-bar .right-buttons");
    if (!bar || typeof path_to_root === "undefined") {
        return;
    }
    const here = LANGUAGES.find((l) => l[0] === document.documentElement.lang) || LANGUAGES[0];
    const bookTop = new URL(path_to_root || "./", location.href);
    const englishTop = new URL(here[2] ? "../".repeat(here[2].split("/").length - 1) : "./", bookTop);
    let page = location.pathname.startsWith(bookTop.pathname)
        ? location.pathname.slice(bookTop.pathname.length) : "";
    if (page === "" || page.endsWith("/")) {
        page += "index.html";
    }

    const picker = document.createElement("div");
    picker.className = "language-picker";
    const button = document.createElement("button");
    button.id = "language-toggle";
    button.className = "icon-button";
    button.type = "button";
    button.title = "Language / 语言";
    button.setAttribute("aria-label", "Language / 语言");
    button.setAttribute("aria-haspopup", "true");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "language-list");
    // A globe: the circle, the equator and one meridian's outline.
    button.innerHTML = '<svg class="language-globe" viewBox="0 0 24 24" width="20" height="20" '
        + 'aria-hidden="true"><g fill="none" stroke="currentColor" stroke-width="1.8">'
        + '<circle cx="12" cy="12" r="9.5"/><ellipse cx="12" cy="12" rx="4.2" ry="9.5"/>'
        + '<path d="M2.5 12h19M4.2 7h15.6M4.2 17h15.6"/></g></svg>'
        + '<span class="language-name"></span>';
    button.querySelector(".language-name").textContent = here[0] === "en" ? "EN" : "中文";
    const list = document.createElement("ul");
    list.id = "language-list";
    list.className = "theme-popup language-list";
    list.setAttribute("role", "menu");
    list.setAttribute("aria-label", "Languages");
    for (const [lang, name, folder] of LANGUAGES) {
        const item = document.createElement("li");
        item.setAttribute("role", "none");
        const link = document.createElement("a");
        link.setAttribute("role", "menuitem");
        link.className = "theme language" + (lang === here[0] ? " theme-selected" : "");
        link.href = new URL(folder + page, englishTop).href;
        link.hreflang = lang;
        link.lang = lang;
        link.textContent = name;
        if (lang === here[0]) {
            link.setAttribute("aria-current", "true");
        }
        item.appendChild(link);
        list.appendChild(item);
    }
    picker.appendChild(button);
    picker.appendChild(list);
    bar.insertBefore(picker, bar.firstChild);

    function show(yes) {
        list.style.display = yes ? "block" : "none";
        button.setAttribute("aria-expanded", yes ? "true" : "false");
    }
    button.addEventListener("click", (event) => {
        event.stopPropagation();
        show(list.style.display !== "block");
    });
    document.addEventListener("click", (event) => {
        if (!picker.contains(event.target)) {
            show(false);
        }
    });
    list.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
            show(false);
            button.focus();
        }
    });

    // The search box speaks the page's language: mdBook writes its
    // placeholder and its "N search results for 'X':" line in English.
    if (here[0] === "zh-CN") {
        const box = document.getElementById("mdbook-searchbar");
        if (box) {
            box.placeholder = "搜索本书……";
        }
        const header = document.getElementById("mdbook-searchresults-header");
        if (header) {
            const say = () => {
                const text = header.textContent;
                let m = text.match(/^(\d+) search results? for '(.*)':$/s);
                if (m) {
                    header.textContent = `找到 ${m[1]} 条与“${m[2]}”相关的结果：`;
                } else if ((m = text.match(/^No search results for '(.*)'\.$/s))) {
                    header.textContent = `没有找到与“${m[1]}”相关的结果。`;
                }
            };
            new MutationObserver(say).observe(header, {childList: true, characterData: true, subtree: true});
            say();
        }
    }
})();

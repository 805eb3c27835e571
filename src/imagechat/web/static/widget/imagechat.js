/* imagechat widget, built by widget/build.mjs from widget/src: edit those, not this file. */
"use strict";
(() => {
  var __defProp = Object.defineProperty;
  var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
  var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);

  // widget/src/i18n/de.js
  var de_default = {
    surfaceLabel: "Bild mit Kommentaren. Klicken Sie auf eine Stelle, um dort ein Gespräch zu beginnen.",
    surfaceKeyboardHint: "Drücken Sie Enter, um eine neue Markierung zu setzen, verschieben Sie sie mit den Pfeiltasten und drücken Sie Enter zum Schreiben.",
    placing: "Neue Markierung bei {x} % von links und {y} % von oben. Pfeiltasten verschieben, Enter schreibt, Escape bricht ab.",
    markerLabel_one: "Gespräch von {name}, {count} Kommentar",
    markerLabel_other: "Gespräch von {name}, {count} Kommentare",
    markerResolved: "erledigt",
    markerPending: "Wird gesendet…",
    markerMoveHint: "Pfeiltasten verschieben sie.",
    markerMoved: "Markierung verschoben auf {x} % von links und {y} % von oben.",
    clusterLabel_one: "{count} Gespräch hier",
    clusterLabel_other: "{count} Gespräche hier",
    composerLabel: "Neues Gespräch",
    composerPlaceholder: "Kommentar schreiben…",
    sendShortcut: "{key}+Enter zum Senden",
    post: "Posten",
    cancel: "Abbrechen",
    nameLabel: "Ihr Name",
    namePlaceholder: "Ihr Name",
    threadLabel: "Gespräch begonnen von {name}",
    close: "Schließen",
    replyPlaceholder: "Antwort schreiben…",
    replyLabel: "Antworten",
    send: "Senden",
    edit: "Bearbeiten",
    save: "Speichern",
    delete: "Löschen",
    confirmDelete: "Löschen? Noch einmal klicken",
    resolve: "Erledigt",
    reopen: "Wieder öffnen",
    deleteChat: "Gespräch löschen",
    confirmDeleteChat: "Wirklich löschen?",
    edited: "(bearbeitet)",
    resolvedBadge: "Erledigt",
    copyLink: "Link kopieren",
    linkCopied: "Link kopiert",
    hideResolved: "Erledigte ausblenden",
    loading: "Kommentare werden geladen…",
    loadFailed: "Die Kommentare konnten nicht geladen werden: {message}",
    offlineNoCache: "Sie sind offline, und dieses Gespräch wurde noch nicht geladen.",
    offline: "Sie sind offline. Vorhandene Kommentare bleiben sichtbar, aber nichts Neues kann gesendet werden, bis Sie wieder verbunden sind.",
    reconnecting: "Verbindung verloren. Neuer Versuch…",
    liveUnavailable: "Live-Aktualisierungen sind nicht verfügbar: {message}",
    liveDelayed: "Live-Aktualisierungen verzögert",
    readOnlyNotice: "Schreibgeschützt: Hier sind Kommentare geschlossen.",
    offlineSend: "Sie sind offline. Es wurde nichts gesendet; versuchen Sie es erneut, sobald Sie online sind.",
    networkError: "Der Server ist nicht erreichbar. Bitte erneut versuchen.",
    timeoutError: "Der Server hat zu lange gebraucht. Bitte erneut versuchen.",
    genericError: "Etwas ist schiefgegangen ({status}).",
    emptyComment: "Bitte schreiben Sie einen Kommentar.",
    tooLong: "Ein Kommentar darf höchstens {max} Zeichen lang sein.",
    nameRequired: "Bitte geben Sie Ihren Namen ein.",
    viewers_one: "{count} Person schaut zu",
    viewers_other: "{count} Personen schauen zu",
    announceNewChat: "Neues Gespräch von {name}: {body}",
    announceNewComment: "Neuer Kommentar von {name}: {body}",
    announceDeleted: "Ein Gespräch wurde gelöscht.",
    chatDeleted: "Dieses Gespräch wurde gelöscht.",
    createFailed: "Ihr Gespräch konnte nicht erstellt werden: {message}",
    moveFailed: "Die Markierung konnte nicht verschoben werden: {message}",
    dismiss: "Schließen",
    unknownUser: "Jemand",
    you: "Sie",
    imageCrop: "Die Stelle im Bild"
  };

  // widget/src/i18n/en.js
  var en_default = {
    surfaceLabel: "Image with comments. Click a spot to start a conversation there.",
    surfaceKeyboardHint: "Press Enter to place a new marker, move it with the arrow keys, then press Enter to write there.",
    placing: "Placing a new marker at {x}% across, {y}% down. Arrow keys move it, Enter writes, Escape cancels.",
    markerLabel_one: "Conversation by {name}, {count} comment",
    markerLabel_other: "Conversation by {name}, {count} comments",
    markerResolved: "resolved",
    markerPending: "Sending…",
    markerMoveHint: "Arrow keys move it.",
    markerMoved: "Marker moved to {x}% across, {y}% down.",
    clusterLabel_one: "{count} conversation here",
    clusterLabel_other: "{count} conversations here",
    composerLabel: "New conversation",
    composerPlaceholder: "Write a comment…",
    sendShortcut: "{key}+Enter to send",
    post: "Post",
    cancel: "Cancel",
    nameLabel: "Your name",
    namePlaceholder: "Your name",
    threadLabel: "Conversation started by {name}",
    close: "Close",
    replyPlaceholder: "Write a reply…",
    replyLabel: "Reply",
    send: "Send",
    edit: "Edit",
    save: "Save",
    delete: "Delete",
    confirmDelete: "Delete? Click again",
    resolve: "Resolve",
    reopen: "Reopen",
    deleteChat: "Delete conversation",
    confirmDeleteChat: "Really delete?",
    edited: "(edited)",
    resolvedBadge: "Resolved",
    copyLink: "Copy link",
    linkCopied: "Link copied",
    hideResolved: "Hide resolved",
    loading: "Loading comments…",
    loadFailed: "Could not load the comments: {message}",
    offlineNoCache: "You are offline, and this conversation has not been loaded yet.",
    offline: "You are offline. Existing comments stay visible, but nothing new can be sent until you reconnect.",
    reconnecting: "Connection lost. Reconnecting…",
    liveUnavailable: "Live updates are unavailable: {message}",
    liveDelayed: "Live updates delayed",
    readOnlyNotice: "Read-only: comments are closed here.",
    offlineSend: "You are offline. Nothing was sent; please try again when you are back online.",
    networkError: "Could not reach the server. Please try again.",
    timeoutError: "The server took too long to answer. Please try again.",
    genericError: "Something went wrong ({status}).",
    emptyComment: "Please write a comment.",
    tooLong: "A comment can be at most {max} characters.",
    nameRequired: "Please enter your name.",
    viewers_one: "{count} viewing",
    viewers_other: "{count} viewing",
    announceNewChat: "New conversation from {name}: {body}",
    announceNewComment: "New comment from {name}: {body}",
    announceDeleted: "A conversation was deleted.",
    chatDeleted: "This conversation was deleted.",
    createFailed: "Your conversation could not be created: {message}",
    moveFailed: "The marker could not be moved: {message}",
    dismiss: "Dismiss",
    unknownUser: "Someone",
    you: "you",
    imageCrop: "The spot on the image"
  };

  // widget/src/i18n/es.js
  var es_default = {
    surfaceLabel: "Imagen con comentarios. Haz clic en un punto para iniciar una conversación.",
    surfaceKeyboardHint: "Pulsa Intro para colocar un marcador nuevo, muévelo con las flechas y pulsa Intro para escribir.",
    placing: "Marcador nuevo al {x} % en horizontal y al {y} % en vertical. Las flechas lo mueven, Intro escribe, Esc cancela.",
    markerLabel_one: "Conversación de {name}, {count} comentario",
    markerLabel_other: "Conversación de {name}, {count} comentarios",
    markerResolved: "resuelta",
    markerPending: "Enviando…",
    markerMoveHint: "Las flechas lo mueven.",
    markerMoved: "Marcador movido al {x} % en horizontal y al {y} % en vertical.",
    clusterLabel_one: "{count} conversación aquí",
    clusterLabel_other: "{count} conversaciones aquí",
    composerLabel: "Nueva conversación",
    composerPlaceholder: "Escribe un comentario…",
    sendShortcut: "{key}+Intro para enviar",
    post: "Publicar",
    cancel: "Cancelar",
    nameLabel: "Tu nombre",
    namePlaceholder: "Tu nombre",
    threadLabel: "Conversación iniciada por {name}",
    close: "Cerrar",
    replyPlaceholder: "Escribe una respuesta…",
    replyLabel: "Responder",
    send: "Enviar",
    edit: "Editar",
    save: "Guardar",
    delete: "Eliminar",
    confirmDelete: "¿Eliminar? Haz clic otra vez",
    resolve: "Resolver",
    reopen: "Reabrir",
    deleteChat: "Eliminar conversación",
    confirmDeleteChat: "¿Eliminar de verdad?",
    edited: "(editado)",
    resolvedBadge: "Resuelta",
    copyLink: "Copiar enlace",
    linkCopied: "Enlace copiado",
    hideResolved: "Ocultar resueltas",
    loading: "Cargando comentarios…",
    loadFailed: "No se pudieron cargar los comentarios: {message}",
    offlineNoCache: "Estás sin conexión y esta conversación aún no se ha cargado.",
    offline: "Estás sin conexión. Los comentarios existentes siguen visibles, pero no se puede enviar nada hasta que vuelvas a conectarte.",
    reconnecting: "Conexión perdida. Reconectando…",
    liveUnavailable: "Las actualizaciones en directo no están disponibles: {message}",
    liveDelayed: "Actualizaciones con retraso",
    readOnlyNotice: "Solo lectura: aquí los comentarios están cerrados.",
    offlineSend: "Estás sin conexión. No se ha enviado nada; inténtalo de nuevo cuando vuelvas a estar en línea.",
    networkError: "No se pudo contactar con el servidor. Inténtalo de nuevo.",
    timeoutError: "El servidor tardó demasiado en responder. Inténtalo de nuevo.",
    genericError: "Algo salió mal ({status}).",
    emptyComment: "Escribe un comentario.",
    tooLong: "Un comentario puede tener como máximo {max} caracteres.",
    nameRequired: "Escribe tu nombre.",
    viewers_one: "{count} persona mirando",
    viewers_other: "{count} personas mirando",
    announceNewChat: "Nueva conversación de {name}: {body}",
    announceNewComment: "Nuevo comentario de {name}: {body}",
    announceDeleted: "Se ha eliminado una conversación.",
    chatDeleted: "Esta conversación se ha eliminado.",
    createFailed: "No se pudo crear tu conversación: {message}",
    moveFailed: "No se pudo mover el marcador: {message}",
    dismiss: "Cerrar",
    unknownUser: "Alguien",
    you: "tú",
    imageCrop: "El punto en la imagen"
  };

  // widget/src/i18n/fr.js
  var fr_default = {
    surfaceLabel: "Image commentée. Cliquez sur un endroit pour y lancer une conversation.",
    surfaceKeyboardHint: "Appuyez sur Entrée pour placer un nouveau repère, déplacez-le avec les flèches, puis Entrée pour écrire.",
    placing: "Nouveau repère à {x} % en largeur et {y} % en hauteur. Les flèches le déplacent, Entrée pour écrire, Échap pour annuler.",
    markerLabel_one: "Conversation de {name}, {count} commentaire",
    markerLabel_other: "Conversation de {name}, {count} commentaires",
    markerResolved: "résolue",
    markerPending: "Envoi…",
    markerMoveHint: "Les flèches le déplacent.",
    markerMoved: "Repère déplacé à {x} % en largeur et {y} % en hauteur.",
    clusterLabel_one: "{count} conversation ici",
    clusterLabel_other: "{count} conversations ici",
    composerLabel: "Nouvelle conversation",
    composerPlaceholder: "Écrivez un commentaire…",
    sendShortcut: "{key}+Entrée pour envoyer",
    post: "Publier",
    cancel: "Annuler",
    nameLabel: "Votre nom",
    namePlaceholder: "Votre nom",
    threadLabel: "Conversation lancée par {name}",
    close: "Fermer",
    replyPlaceholder: "Écrivez une réponse…",
    replyLabel: "Répondre",
    send: "Envoyer",
    edit: "Modifier",
    save: "Enregistrer",
    delete: "Supprimer",
    confirmDelete: "Supprimer ? Cliquez à nouveau",
    resolve: "Résoudre",
    reopen: "Rouvrir",
    deleteChat: "Supprimer la conversation",
    confirmDeleteChat: "Vraiment supprimer ?",
    edited: "(modifié)",
    resolvedBadge: "Résolue",
    copyLink: "Copier le lien",
    linkCopied: "Lien copié",
    hideResolved: "Masquer les résolues",
    loading: "Chargement des commentaires…",
    loadFailed: "Impossible de charger les commentaires : {message}",
    offlineNoCache: "Vous êtes hors ligne et cette conversation n'a pas encore été chargée.",
    offline: "Vous êtes hors ligne. Les commentaires restent visibles, mais rien ne peut être envoyé avant votre reconnexion.",
    reconnecting: "Connexion perdue. Reconnexion…",
    liveUnavailable: "Mises à jour en direct indisponibles : {message}",
    liveDelayed: "Mises à jour retardées",
    readOnlyNotice: "Lecture seule : les commentaires sont fermés ici.",
    offlineSend: "Vous êtes hors ligne. Rien n'a été envoyé ; réessayez une fois reconnecté.",
    networkError: "Impossible de joindre le serveur. Réessayez.",
    timeoutError: "Le serveur a mis trop de temps à répondre. Réessayez.",
    genericError: "Une erreur est survenue ({status}).",
    emptyComment: "Écrivez un commentaire.",
    tooLong: "Un commentaire peut compter au plus {max} caractères.",
    nameRequired: "Indiquez votre nom.",
    viewers_one: "{count} personne regarde",
    viewers_other: "{count} personnes regardent",
    announceNewChat: "Nouvelle conversation de {name} : {body}",
    announceNewComment: "Nouveau commentaire de {name} : {body}",
    announceDeleted: "Une conversation a été supprimée.",
    chatDeleted: "Cette conversation a été supprimée.",
    createFailed: "Votre conversation n'a pas pu être créée : {message}",
    moveFailed: "Le repère n'a pas pu être déplacé : {message}",
    dismiss: "Fermer",
    unknownUser: "Quelqu'un",
    you: "vous",
    imageCrop: "L'endroit sur l'image"
  };

  // widget/src/i18n/it.js
  var it_default = {
    surfaceLabel: "Immagine con commenti. Fai clic su un punto per iniziare una conversazione.",
    surfaceKeyboardHint: "Premi Invio per posizionare un nuovo segnaposto, spostalo con le frecce, poi premi Invio per scrivere.",
    placing: "Nuovo segnaposto al {x}% in orizzontale e al {y}% in verticale. Le frecce lo spostano, Invio scrive, Esc annulla.",
    markerLabel_one: "Conversazione di {name}, {count} commento",
    markerLabel_other: "Conversazione di {name}, {count} commenti",
    markerResolved: "risolta",
    markerPending: "Invio in corso…",
    markerMoveHint: "Le frecce lo spostano.",
    markerMoved: "Segnaposto spostato al {x}% in orizzontale e al {y}% in verticale.",
    clusterLabel_one: "{count} conversazione qui",
    clusterLabel_other: "{count} conversazioni qui",
    composerLabel: "Nuova conversazione",
    composerPlaceholder: "Scrivi un commento…",
    sendShortcut: "{key}+Invio per inviare",
    post: "Pubblica",
    cancel: "Annulla",
    nameLabel: "Il tuo nome",
    namePlaceholder: "Il tuo nome",
    threadLabel: "Conversazione iniziata da {name}",
    close: "Chiudi",
    replyPlaceholder: "Scrivi una risposta…",
    replyLabel: "Rispondi",
    send: "Invia",
    edit: "Modifica",
    save: "Salva",
    delete: "Elimina",
    confirmDelete: "Eliminare? Clicca di nuovo",
    resolve: "Risolvi",
    reopen: "Riapri",
    deleteChat: "Elimina conversazione",
    confirmDeleteChat: "Eliminare davvero?",
    edited: "(modificato)",
    resolvedBadge: "Risolta",
    copyLink: "Copia link",
    linkCopied: "Link copiato",
    hideResolved: "Nascondi risolte",
    loading: "Caricamento dei commenti…",
    loadFailed: "Impossibile caricare i commenti: {message}",
    offlineNoCache: "Sei offline e questa conversazione non è ancora stata caricata.",
    offline: "Sei offline. I commenti esistenti restano visibili, ma non puoi inviarne di nuovi finché non torni online.",
    reconnecting: "Connessione persa. Riconnessione in corso…",
    liveUnavailable: "Aggiornamenti in tempo reale non disponibili: {message}",
    liveDelayed: "Aggiornamenti in ritardo",
    readOnlyNotice: "Sola lettura: qui i commenti sono chiusi.",
    offlineSend: "Sei offline. Non è stato inviato nulla; riprova quando sarai di nuovo online.",
    networkError: "Impossibile raggiungere il server. Riprova.",
    timeoutError: "Il server ha impiegato troppo tempo a rispondere. Riprova.",
    genericError: "Qualcosa è andato storto ({status}).",
    emptyComment: "Scrivi un commento.",
    tooLong: "Un commento può avere al massimo {max} caratteri.",
    nameRequired: "Inserisci il tuo nome.",
    viewers_one: "{count} persona sta guardando",
    viewers_other: "{count} persone stanno guardando",
    announceNewChat: "Nuova conversazione da {name}: {body}",
    announceNewComment: "Nuovo commento da {name}: {body}",
    announceDeleted: "Una conversazione è stata eliminata.",
    chatDeleted: "Questa conversazione è stata eliminata.",
    createFailed: "Impossibile creare la conversazione: {message}",
    moveFailed: "Impossibile spostare il segnaposto: {message}",
    dismiss: "Chiudi",
    unknownUser: "Qualcuno",
    you: "tu",
    imageCrop: "Il punto sull'immagine"
  };

  // widget/src/i18n/pt.js
  var pt_default = {
    surfaceLabel: "Imagem com comentários. Clique num ponto para começar uma conversa ali.",
    surfaceKeyboardHint: "Prima Enter para colocar um novo marcador, mova-o com as setas e prima Enter para escrever.",
    placing: "Novo marcador a {x}% na horizontal e {y}% na vertical. As setas movem-no, Enter escreve, Esc cancela.",
    markerLabel_one: "Conversa de {name}, {count} comentário",
    markerLabel_other: "Conversa de {name}, {count} comentários",
    markerResolved: "resolvida",
    markerPending: "A enviar…",
    markerMoveHint: "As setas movem-no.",
    markerMoved: "Marcador movido para {x}% na horizontal e {y}% na vertical.",
    clusterLabel_one: "{count} conversa aqui",
    clusterLabel_other: "{count} conversas aqui",
    composerLabel: "Nova conversa",
    composerPlaceholder: "Escreva um comentário…",
    sendShortcut: "{key}+Enter para enviar",
    post: "Publicar",
    cancel: "Cancelar",
    nameLabel: "O seu nome",
    namePlaceholder: "O seu nome",
    threadLabel: "Conversa iniciada por {name}",
    close: "Fechar",
    replyPlaceholder: "Escreva uma resposta…",
    replyLabel: "Responder",
    send: "Enviar",
    edit: "Editar",
    save: "Guardar",
    delete: "Eliminar",
    confirmDelete: "Eliminar? Clique de novo",
    resolve: "Resolver",
    reopen: "Reabrir",
    deleteChat: "Eliminar conversa",
    confirmDeleteChat: "Eliminar mesmo?",
    edited: "(editado)",
    resolvedBadge: "Resolvida",
    copyLink: "Copiar ligação",
    linkCopied: "Ligação copiada",
    hideResolved: "Ocultar resolvidas",
    loading: "A carregar comentários…",
    loadFailed: "Não foi possível carregar os comentários: {message}",
    offlineNoCache: "Está offline e esta conversa ainda não foi carregada.",
    offline: "Está offline. Os comentários existentes continuam visíveis, mas nada novo pode ser enviado até voltar a ligar-se.",
    reconnecting: "Ligação perdida. A religar…",
    liveUnavailable: "Atualizações em direto indisponíveis: {message}",
    liveDelayed: "Atualizações atrasadas",
    readOnlyNotice: "Só de leitura: aqui os comentários estão fechados.",
    offlineSend: "Está offline. Nada foi enviado; tente de novo quando voltar a estar online.",
    networkError: "Não foi possível contactar o servidor. Tente de novo.",
    timeoutError: "O servidor demorou demasiado a responder. Tente de novo.",
    genericError: "Algo correu mal ({status}).",
    emptyComment: "Escreva um comentário.",
    tooLong: "Um comentário pode ter no máximo {max} caracteres.",
    nameRequired: "Indique o seu nome.",
    viewers_one: "{count} pessoa a ver",
    viewers_other: "{count} pessoas a ver",
    announceNewChat: "Nova conversa de {name}: {body}",
    announceNewComment: "Novo comentário de {name}: {body}",
    announceDeleted: "Uma conversa foi eliminada.",
    chatDeleted: "Esta conversa foi eliminada.",
    createFailed: "Não foi possível criar a sua conversa: {message}",
    moveFailed: "Não foi possível mover o marcador: {message}",
    dismiss: "Fechar",
    unknownUser: "Alguém",
    you: "você",
    imageCrop: "O ponto na imagem"
  };

  // widget/src/i18n/index.js
  var CATALOGUES = { en: en_default, it: it_default, es: es_default, fr: fr_default, de: de_default, pt: pt_default };
  function resolveLocale(wanted, browserLanguages = defaultLanguages()) {
    const explicit = wanted && wanted !== "auto";
    const candidates = explicit ? [wanted] : browserLanguages;
    for (const candidate of candidates) {
      const found = supported(candidate);
      if (found) return found;
    }
    return "en";
  }
  function supported(candidate) {
    if (!candidate) return null;
    const lower = String(candidate).toLowerCase();
    if (CATALOGUES[lower]) return lower;
    const base = lower.split(/[-_]/)[0];
    return CATALOGUES[base] ? base : null;
  }
  function defaultLanguages() {
    if (typeof navigator === "undefined") return [];
    if (Array.isArray(navigator.languages) && navigator.languages.length) return navigator.languages;
    return navigator.language ? [navigator.language] : [];
  }
  function translate(locale, key, params) {
    const table = CATALOGUES[locale] || CATALOGUES.en;
    let chosen = key;
    if (params && typeof params.count === "number") {
      const form = new Intl.PluralRules(locale).select(params.count);
      const plural = `${key}_${form}`;
      const other = `${key}_other`;
      if (plural in table || plural in CATALOGUES.en) chosen = plural;
      else if (other in table || other in CATALOGUES.en) chosen = other;
    }
    const text = table[chosen] ?? CATALOGUES.en[chosen] ?? key;
    return text.replace(
      /\{(\w+)\}/g,
      (match, name) => params && name in params ? String(params[name]) : match
    );
  }
  var UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60]
  ];
  function relativeTime(iso, locale, now = Date.now()) {
    const then = Date.parse(iso);
    if (!Number.isFinite(then)) return "";
    const seconds = Math.round((then - now) / 1e3);
    const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
    for (const [unit, length] of UNITS) {
      if (Math.abs(seconds) >= length) return format.format(Math.trunc(seconds / length), unit);
    }
    return format.format(0, "second");
  }

  // widget/src/dom.js
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === void 0 || value === null || value === false) continue;
        if (name === "class") node.className = value;
        else if (name === "text") node.textContent = value;
        else if (name === "hidden") node.hidden = Boolean(value);
        else node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    if (children) {
      for (const child of children) {
        if (child === null || child === void 0 || child === false) continue;
        node.append(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }
  function setChildren(node, children) {
    const nodes = [];
    for (const child of children) if (child) nodes.push(child);
    node.replaceChildren(...nodes);
  }
  function isSafeImageUrl(url) {
    if (!url) return false;
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:";
    } catch {
      return false;
    }
  }
  function confirmButton(className, label, confirmLabel, action) {
    const button = el("button", {
      type: "button",
      class: `imagechat-button imagechat-button--danger ${className}`,
      text: label
    });
    let armed = 0;
    button.addEventListener("click", () => {
      if (armed) {
        clearTimeout(armed);
        armed = 0;
        action();
        return;
      }
      button.textContent = confirmLabel;
      button.classList.add("imagechat-button--armed");
      armed = setTimeout(() => {
        armed = 0;
        button.textContent = label;
        button.classList.remove("imagechat-button--armed");
      }, 4e3);
    });
    return button;
  }
  function showError(box, message) {
    box.textContent = message;
    box.hidden = false;
  }
  function errorBox() {
    const node = el("div", { class: "imagechat-error", role: "alert", hidden: true });
    return { node, show: (message) => showError(node, message) };
  }
  function usesCommandKey() {
    const platform = (
      /** @type {any} */
      navigator.userAgentData?.platform || navigator.platform || ""
    );
    return /mac|iphone|ipad|ipod/i.test(String(platform));
  }
  function submitOnCtrlEnter(area, form) {
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  // widget/src/stylesheet.js
  var assetBase = "";
  function setAssetBase(base) {
    if (!assetBase) assetBase = base;
  }
  function ensureStylesheet(config) {
    if (config.stylesheet === false) return;
    let href = config.stylesheet || "";
    if (!href && assetBase) href = new URL("imagechat.css", assetBase).href;
    if (!href && config.server) href = `${config.server}/widget/imagechat.css`;
    if (!href) return;
    const absolute = new URL(href, location.href).href;
    for (const link of document.querySelectorAll("link[data-imagechat-css]")) {
      if (
        /** @type {HTMLLinkElement} */
        link.href === absolute
      ) return;
    }
    document.head.append(el("link", { rel: "stylesheet", href, "data-imagechat-css": true }));
  }

  // widget/src/util.js
  var RECONNECT_BASE_MS = 500;
  var RECONNECT_CAP_MS = 2e4;
  function uuid() {
    if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") {
      return globalThis.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    globalThis.crypto.getRandomValues(bytes);
    bytes[6] = bytes[6] & 15 | 64;
    bytes[8] = bytes[8] & 63 | 128;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  function backoffDelay(attempt, base = RECONNECT_BASE_MS, cap = RECONNECT_CAP_MS) {
    return Math.random() * Math.min(cap, base * 2 ** attempt);
  }
  function shortHash(text) {
    let hash = 2166136261;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 16777619);
    }
    return (hash >>> 0).toString(16).padStart(8, "0");
  }
  function clampPercent(value) {
    return Math.round(Math.max(0, Math.min(100, value)) * 1e3) / 1e3;
  }
  function normalizeServer(server) {
    return String(server || "").replace(/\/+$/, "");
  }
  var Emitter = class {
    constructor() {
      this.listeners = /* @__PURE__ */ new Set();
    }
    /** @param {Listener} fn @returns {() => void} what stops listening */
    listen(fn) {
      this.listeners.add(fn);
      return () => {
        this.listeners.delete(fn);
      };
    }
    /** @param {string} type @param {any} [detail] */
    emit(type, detail) {
      for (const fn of Array.from(this.listeners)) {
        try {
          fn(type, detail);
        } catch (err) {
          console.error("imagechat: listener failed", err);
        }
      }
    }
  };
  var storage = {
    /** @param {string} key @returns {any} */
    get(key) {
      try {
        const raw = globalThis.localStorage.getItem(key);
        return raw === null ? null : JSON.parse(raw);
      } catch {
        return null;
      }
    },
    /** @param {string} key @param {unknown} value */
    set(key, value) {
      try {
        globalThis.localStorage.setItem(key, JSON.stringify(value));
      } catch {
      }
    },
    /** @param {string} key */
    remove(key) {
      try {
        globalThis.localStorage.removeItem(key);
      } catch {
      }
    }
  };

  // widget/src/api.js
  var REQUEST_TIMEOUT_MS = 15e3;
  var ApiError = class extends Error {
    /**
     * @param {string} message
     * @param {{status?: number, code?: string}} [info]
     */
    constructor(message, info = {}) {
      super(message);
      this.name = "ApiError";
      this.status = info.status ?? 0;
      this.code = info.code ?? "error";
    }
  };
  function isReadOnlyRefusal(err) {
    return err instanceof ApiError && err.status === 403 && (err.code === "read_only" || err.code === "readonly");
  }
  var _Api = class _Api {
    /** @param {string} server @param {string} tenantId */
    static for(server, tenantId) {
      const key = `${server}|${tenantId}`;
      let api = _Api.instances.get(key);
      if (!api) {
        api = new _Api(server, tenantId);
        _Api.instances.set(key, api);
      }
      return api;
    }
    /** @param {string} server @param {string} tenantId */
    constructor(server, tenantId) {
      this.server = server;
      this.tenantId = tenantId;
      this.base = `${server}/api/v1/${encodeURIComponent(tenantId)}`;
      this.sessionKey = `imagechat:session:${server}|${tenantId}`;
      this.guestNameKey = `imagechat:guest-name:${tenantId}`;
      this.sessionPromise = null;
      this.changes = new Emitter();
    }
    /** The cached session, if it is still valid for at least another minute. */
    get session() {
      const session = storage.get(this.sessionKey);
      if (!session || typeof session.token !== "string") return null;
      const expires = Date.parse(session.expiresAt);
      if (!Number.isFinite(expires) || expires - 6e4 < Date.now()) return null;
      return session;
    }
    /** @returns {User | null} */
    get user() {
      return this.session?.user ?? null;
    }
    /** @returns {string | null} */
    get guestName() {
      const name = storage.get(this.guestNameKey);
      return typeof name === "string" && name.trim() ? name : null;
    }
    /** @param {string} name */
    rememberGuestName(name) {
      storage.set(this.guestNameKey, name);
    }
    forgetSession() {
      storage.remove(this.sessionKey);
      this.changes.emit("session");
    }
    /**
     * Does the cached session belong to this identity? A different SSO user on the same browser
     * must not write with the previous user's token.
     * @param {Identity} identity
     */
    sessionMatches(identity) {
      const session = this.session;
      if (!session) return false;
      if (identity.sso) return session.ssoKey === identity.sso.userDataJSONBase64;
      return session.kind === "guest";
    }
    /**
     * Whether a write would have to ask for a name first.
     * @param {Identity} identity
     */
    needsGuestName(identity) {
      return !identity.sso && !this.sessionMatches(identity) && !this.guestName;
    }
    /**
     * Returns a valid token, creating a session when needed (one request at a time).
     * @param {Identity} identity
     * @returns {Promise<string>}
     */
    async ensureSession(identity) {
      if (this.sessionMatches(identity)) return this.session.token;
      if (!this.sessionPromise) {
        this.sessionPromise = this.createSession(identity).finally(() => {
          this.sessionPromise = null;
        });
      }
      const session = await this.sessionPromise;
      return session.token;
    }
    /** @param {Identity} identity */
    async createSession(identity) {
      let body;
      let kind;
      if (identity.sso) {
        body = { sso: identity.sso };
        kind = "sso";
      } else {
        const name = identity.guestName || this.guestName;
        if (!name) throw new ApiError("name required", { code: "name_required" });
        body = { guest: { name } };
        kind = "guest";
      }
      const answer = await this.send("POST", "/sessions", { body });
      const session = {
        token: answer.token,
        user: answer.user,
        expiresAt: answer.expiresAt,
        kind,
        ssoKey: identity.sso ? identity.sso.userDataJSONBase64 : null
      };
      storage.set(this.sessionKey, session);
      this.changes.emit("session");
      return session;
    }
    /**
     * A read. Sends the token when there is one (private tenants need it); a stale token is
     * dropped and the read retried without it, an SSO identity logs in when the tenant asks.
     * @param {string} path
     * @param {Identity} identity
     * @returns {Promise<any>}
     */
    async read(path, identity) {
      const token = this.session?.token ?? null;
      try {
        return await this.send("GET", path, { token });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        if (token) {
          this.forgetSession();
          return this.read(path, identity);
        }
        if (identity.sso) {
          const fresh = await this.ensureSession(identity);
          return this.send("GET", path, { token: fresh });
        }
        throw err;
      }
    }
    /**
     * A write: needs a session; a 401 (expired or revoked token) gets one retry with a new
     * session. The body carries a broadcastId, so the retry is applied at most once.
     * @param {string} method
     * @param {string} path
     * @param {Identity} identity
     * @param {unknown} [body]
     */
    async write(method, path, identity, body) {
      const token = await this.ensureSession(identity);
      try {
        return await this.send(method, path, { body, token });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        this.forgetSession();
        const fresh = await this.ensureSession(identity);
        return this.send(method, path, { body, token: fresh });
      }
    }
    /**
     * @param {string} method
     * @param {string} path
     * @param {{body?: unknown, token?: string | null}} [options]
     */
    async send(method, path, options = {}) {
      const headers = { Accept: "application/json" };
      if (options.body !== void 0) headers["Content-Type"] = "application/json";
      if (options.token) headers.Authorization = `Bearer ${options.token}`;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
      let response;
      try {
        response = await fetch(this.base + path, {
          method,
          headers,
          body: options.body === void 0 ? void 0 : JSON.stringify(options.body),
          signal: controller.signal,
          credentials: "omit"
        });
      } catch (err) {
        const aborted = err && /** @type {any} */
        err.name === "AbortError";
        throw new ApiError(aborted ? "timeout" : "network", {
          code: aborted ? "timeout" : "network"
        });
      } finally {
        clearTimeout(timer);
      }
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      if (!response.ok) {
        const message = data && typeof data.message === "string" ? data.message : "";
        throw new ApiError(message, {
          status: response.status,
          code: data && typeof data.code === "string" ? data.code : `http_${response.status}`
        });
      }
      return data;
    }
  };
  /** @type {Map<string, Api>} */
  __publicField(_Api, "instances", /* @__PURE__ */ new Map());
  var Api = _Api;

  // widget/src/broadcast-ids.js
  var KEPT = 5e3;
  var ownBroadcastIds = /* @__PURE__ */ new Set();
  function newBroadcastId() {
    const id = uuid();
    ownBroadcastIds.add(id);
    if (ownBroadcastIds.size > KEPT) {
      const oldest = ownBroadcastIds.values().next().value;
      if (oldest !== void 0) ownBroadcastIds.delete(oldest);
    }
    return id;
  }
  function forgetBroadcastId(id) {
    ownBroadcastIds.delete(id);
  }

  // widget/src/network.js
  var network = new Emitter();
  if (typeof window !== "undefined") {
    window.addEventListener("online", () => network.emit("online"));
    window.addEventListener("offline", () => network.emit("offline"));
  }
  function browserOffline() {
    return typeof navigator !== "undefined" && navigator.onLine === false;
  }

  // widget/src/connection.js
  var FATAL_CLOSE_CODES = /* @__PURE__ */ new Set([4400]);
  var FALLBACK_AFTER_FAILURES = 3;
  function channelKey(server, tenantId, urlId) {
    return `${server}\0${tenantId}\0${urlId}`;
  }
  var _LiveConnection = class _LiveConnection {
    /** @param {string} server */
    static for(server) {
      let connection = _LiveConnection.instances.get(server);
      if (!connection) {
        connection = new _LiveConnection(server);
        _LiveConnection.instances.set(server, connection);
      }
      return connection;
    }
    /** @param {string} server */
    constructor(server) {
      this.server = server;
      this.url = `${server.replace(/^http/i, "ws")}/ws`;
      this.channels = /* @__PURE__ */ new Map();
      this.ws = null;
      this.state = "idle";
      this.attempt = 0;
      this.silentFailures = 0;
      this.polling = false;
      this.checking = false;
      this.timer = null;
      this.fatalReason = "";
      this.events = new Emitter();
      this.unlisten = network.listen((type) => {
        if (type === "online") this.onBrowserOnline();
        else if (type === "offline") this.onBrowserOffline();
      });
    }
    /** @param {Subscriber} channel */
    add(channel) {
      this.channels.set(channel.key, channel);
      if (this.state === "open") channel.onSocketOpen();
      else this.ensureConnecting();
    }
    /** @param {Subscriber} channel */
    remove(channel) {
      if (this.channels.get(channel.key) !== channel) return;
      this.channels.delete(channel.key);
      this.send({ type: "unsubscribe", tenantId: channel.tenantId, urlId: channel.urlId });
      if (this.channels.size === 0) this.dispose();
    }
    /** @param {Subscriber} channel */
    subscribe(channel) {
      const message = { type: "subscribe", tenantId: channel.tenantId, urlId: channel.urlId };
      if (channel.epoch !== null && channel.offset !== null) {
        message.epoch = channel.epoch;
        message.offset = channel.offset;
      }
      const token = channel.token;
      if (token) message.token = token;
      channel.sentToken = Boolean(token);
      return this.send(message);
    }
    /** @param {unknown} message @returns {boolean} whether it went out */
    send(message) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(JSON.stringify(message));
      return true;
    }
    ensureConnecting() {
      if (this.state === "closed" || this.ws || this.timer) return;
      if (browserOffline()) {
        this.setState("offline");
        return;
      }
      this.connect();
    }
    connect() {
      this.timer = null;
      if (this.channels.size === 0) return;
      this.setState("connecting");
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        console.error("imagechat: cannot open WebSocket", err);
        this.silentFailures += 1;
        this.scheduleReconnect();
        return;
      }
      this.ws = ws;
      let heard = false;
      ws.addEventListener("open", () => {
        if (this.ws !== ws) return;
        this.setState("open");
        for (const channel of this.channels.values()) channel.onSocketOpen();
      });
      ws.addEventListener("message", (event) => {
        if (this.ws !== ws) return;
        heard = true;
        this.attempt = 0;
        this.silentFailures = 0;
        this.setPolling(false);
        this.onFrame(event.data);
      });
      ws.addEventListener("close", (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
        if (!heard) this.silentFailures += 1;
        this.onClosed(event.code, event.reason);
      });
    }
    /** @param {number} code @param {string} reason */
    onClosed(code, reason) {
      for (const channel of this.channels.values()) channel.onSocketClosed();
      if (FATAL_CLOSE_CODES.has(code)) {
        this.fatalReason = reason || `close code ${code}`;
        this.setState("closed");
        return;
      }
      if (this.channels.size === 0) {
        this.setState("idle");
        return;
      }
      if (browserOffline()) {
        this.setState("offline");
        return;
      }
      this.scheduleReconnect();
    }
    scheduleReconnect() {
      if (this.timer) return;
      if (this.silentFailures >= FALLBACK_AFTER_FAILURES && !this.polling) this.checkFallback();
      const delay = backoffDelay(this.polling ? Math.min(this.attempt, 4) : this.attempt);
      this.attempt += 1;
      this.setState("waiting");
      this.timer = setTimeout(() => this.connect(), delay);
    }
    /**
     * The socket keeps failing. If the server still answers over plain HTTP, something on the way
     * (a proxy) blocks WebSockets: poll instead. If it does not, the server is down or restarting,
     * and the socket's own backoff is the right way back.
     */
    async checkFallback() {
      if (this.checking) return;
      const channel = this.channels.values().next().value;
      if (!channel) return;
      this.checking = true;
      try {
        const reachable = await channel.reachable();
        if (reachable && !this.ws && this.silentFailures >= FALLBACK_AFTER_FAILURES) {
          this.setPolling(true);
        }
      } finally {
        this.checking = false;
      }
    }
    onBrowserOnline() {
      if (this.state === "closed" || this.channels.size === 0) return;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      this.attempt = 0;
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        for (const channel of this.channels.values()) channel.onSocketOpen();
      } else if (!this.ws) {
        this.connect();
      }
    }
    onBrowserOffline() {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      const ws = this.ws;
      if (ws) {
        this.ws = null;
        try {
          ws.close(1e3, "offline");
        } catch {
        }
        for (const channel of this.channels.values()) channel.onSocketClosed();
      }
      if (this.state !== "closed" && this.channels.size > 0) this.setState("offline");
    }
    /** @param {unknown} data */
    onFrame(data) {
      let parsed;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        return;
      }
      const messages = Array.isArray(parsed) ? parsed : [parsed];
      for (const message of messages) {
        if (!message || typeof message !== "object") continue;
        this.route(message);
      }
    }
    /** @param {any} message */
    route(message) {
      if (message.type === "error" && !(message.tenantId && message.urlId)) {
        for (const channel2 of this.channels.values()) channel2.onError(message);
        return;
      }
      if (typeof message.tenantId !== "string" || typeof message.urlId !== "string") return;
      const channel = this.channels.get(channelKey(this.server, message.tenantId, message.urlId));
      if (!channel) return;
      if (message.type === "error") channel.onError(message);
      else channel.receive(message);
    }
    /** @param {boolean} polling */
    setPolling(polling) {
      if (this.polling === polling) return;
      this.polling = polling;
      for (const channel of this.channels.values()) channel.onTransportChanged();
      this.events.emit("state", this.state);
    }
    /** @param {string} state */
    setState(state) {
      if (this.state === state) return;
      this.state = state;
      this.events.emit("state", state);
    }
    dispose() {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      const ws = this.ws;
      this.ws = null;
      if (ws) ws.close(1e3, "no more widgets");
      this.unlisten();
      this.setState("idle");
      _LiveConnection.instances.delete(this.server);
    }
  };
  /** @type {Map<string, LiveConnection>} */
  __publicField(_LiveConnection, "instances", /* @__PURE__ */ new Map());
  var LiveConnection = _LiveConnection;

  // widget/src/poller.js
  var ACTIVE_MIN_MS = 2e3;
  var ACTIVE_SPREAD_MS = 3e3;
  var HIDDEN_MS = 2e4;
  var Poller = class {
    /**
     * @param {() => Promise<void>} pollOnce asks the server once and applies the answer
     */
    constructor(pollOnce) {
      this.pollOnce = pollOnce;
      this.running = false;
      this.failures = 0;
      this.timer = null;
    }
    start() {
      if (this.running) return;
      this.running = true;
      this.failures = 0;
      this.schedule(0);
    }
    stop() {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    }
    /** @param {number} delay */
    schedule(delay) {
      if (!this.running) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.tick(), delay);
    }
    async tick() {
      this.timer = null;
      if (!this.running) return;
      if (browserOffline()) {
        this.schedule(ACTIVE_MIN_MS);
        return;
      }
      try {
        await this.pollOnce();
        this.failures = 0;
      } catch {
        this.failures += 1;
      }
      if (!this.running) return;
      if (this.failures) {
        this.schedule(ACTIVE_MIN_MS + backoffDelay(this.failures, ACTIVE_MIN_MS, 3e4));
        return;
      }
      const hidden = typeof document !== "undefined" && document.hidden;
      this.schedule(hidden ? HIDDEN_MS : ACTIVE_MIN_MS + Math.random() * ACTIVE_SPREAD_MS);
    }
  };

  // widget/src/epoch.js
  var SHAPE = /^([0-9a-f]{8})\.\S+$/i;
  function generation(epoch) {
    if (typeof epoch !== "string") return null;
    const match = SHAPE.exec(epoch);
    return match ? parseInt(match[1], 16) : null;
  }
  function isOlderEpoch(candidate, current) {
    const a = generation(candidate);
    const b = generation(current);
    return a !== null && b !== null && a < b;
  }
  function isOtherEpoch(candidate, current) {
    return candidate !== void 0 && candidate !== null && current !== null && candidate !== current;
  }

  // widget/src/store.js
  var NOT_EVENTS = /* @__PURE__ */ new Set(["subscribed", "presence", "error", "pong"]);
  var CHAT_CHANGES = /* @__PURE__ */ new Set(["moved", "resolved", "reopened", "updated"]);
  var ChannelStore = class {
    /**
     * @param {string} urlId
     * @param {{isOwn?: (broadcastId: string) => boolean}} [options] tells this page's own writes
     */
    constructor(urlId, options = {}) {
      this.urlId = urlId;
      this.isOwn = options.isOwn || (() => false);
      this.events = new Emitter();
      this.chats = /* @__PURE__ */ new Map();
      this.comments = /* @__PURE__ */ new Map();
      this.deletedIds = /* @__PURE__ */ new Set();
      this.epoch = null;
      this.offset = null;
      this.loaded = false;
      this.live = false;
      this.awaitingReplay = false;
      this.failedRecoveries = 0;
      this.viewers = 0;
      this.readOnly = false;
      this.readOnlyChanges = 0;
    }
    // --- reading the channel ---------------------------------------------------------------------
    /**
     * Takes a snapshot (GET /chats). A snapshot of an older history than the one we are in is a
     * late answer and is ignored.
     * @param {Snapshot} snapshot
     * @returns {boolean} whether it was applied
     */
    applySnapshot(snapshot) {
      if (isOlderEpoch(snapshot.epoch, this.epoch)) return false;
      const previous = this.chats;
      const next = /* @__PURE__ */ new Map();
      for (const chat of snapshot.chats || []) next.set(chat.id, chat);
      for (const [id, chat] of previous) if (chat.pending) next.set(id, chat);
      for (const [id, chat] of previous) {
        if (chat.pending) continue;
        const fresh = next.get(id);
        if (!fresh) {
          this.comments.delete(id);
          this.events.emit("deleted", { chatId: id, byOthers: true });
        } else if (fresh.version !== chat.version) {
          this.comments.delete(id);
          this.events.emit("thread", id);
        }
      }
      this.chats = next;
      this.epoch = snapshot.epoch ?? null;
      this.offset = typeof snapshot.offset === "number" ? snapshot.offset : 0;
      this.loaded = true;
      this.awaitingReplay = false;
      this.events.emit("chats");
      this.changeReadOnly(snapshot.readOnly === true);
      return true;
    }
    /**
     * One server message about this channel (a frame's array is handed over item by item).
     * @param {any} message
     * @returns {Action}
     */
    receive(message) {
      if (!message || typeof message !== "object") return null;
      if (message.type === "subscribed") return this.onSubscribed(message);
      if (message.type === "presence") {
        if (typeof message.viewers === "number") {
          this.viewers = message.viewers;
          this.events.emit("presence", this.viewers);
        }
        return null;
      }
      if (typeof message.offset === "number" && !NOT_EVENTS.has(message.type)) {
        return this.applyEvent(message, true);
      }
      return null;
    }
    /**
     * The answer to a subscribe: replayed events, or `recovered: false`.
     * @param {any} message
     * @returns {Action}
     */
    onSubscribed(message) {
      if (!this.loaded) return null;
      if (isOlderEpoch(message.epoch, this.epoch)) return null;
      this.awaitingReplay = false;
      if (message.recovered === false || isOtherEpoch(message.epoch, this.epoch)) {
        this.failedRecoveries += 1;
        this.setLive(false);
        return "reload";
      }
      this.failedRecoveries = 0;
      for (const event of Array.isArray(message.events) ? message.events : []) {
        this.applyEvent(event, false);
      }
      if (typeof message.offset === "number" && this.offset !== null && this.offset < message.offset) {
        this.setLive(false);
        return "reload";
      }
      this.setLive(true);
      return "live";
    }
    /**
     * An answer of GET /events (the polling transport): the same rules as a replay.
     * @param {any} answer
     * @returns {Action}
     */
    receivePolled(answer) {
      if (!answer || typeof answer !== "object") return null;
      return this.onSubscribed({ ...answer, type: "subscribed" });
    }
    /**
     * Applies one event in offset order. Old offsets are ignored; a hole means something was lost,
     * so a live event past a hole asks for a re-subscribe from our offset (once per hole).
     * @param {any} event
     * @param {boolean} live whether it came on its own (not inside a replay)
     * @returns {Action}
     */
    applyEvent(event, live) {
      if (!event || this.offset === null || typeof event.offset !== "number") return null;
      if (isOlderEpoch(event.epoch, this.epoch)) return null;
      if (isOtherEpoch(event.epoch, this.epoch)) {
        if (!live) return null;
        this.setLive(false);
        return "reload";
      }
      if (event.offset <= this.offset) return null;
      if (event.offset > this.offset + 1) {
        if (!live || this.awaitingReplay) return null;
        this.awaitingReplay = true;
        return "resubscribe";
      }
      this.offset = event.offset;
      if (event.type === "image-updated") {
        if (typeof event.readOnly === "boolean") this.changeReadOnly(event.readOnly);
        return null;
      }
      if (event.broadcastId && this.isOwn(event.broadcastId)) return null;
      switch (event.type) {
        case "new-image-chat":
          this.onNewChat(event);
          break;
        case "image-chat-updated":
          this.onChatUpdated(event);
          break;
        case "deleted-image-chat":
          if (typeof event.chatId === "string" && this.chats.has(event.chatId)) {
            this.removeChat(event.chatId, true);
            this.events.emit("announce", { key: "announceDeleted" });
          }
          break;
        default:
          break;
      }
      return null;
    }
    /** @param {boolean} live */
    setLive(live) {
      if (this.live === live) return;
      this.live = live;
      this.events.emit("status");
    }
    /**
     * The server's word on whether writes are refused here (a snapshot or an event).
     * @param {boolean} readOnly
     */
    changeReadOnly(readOnly) {
      this.readOnlyChanges += 1;
      this.setReadOnly(readOnly);
    }
    /**
     * A write sent when `readOnlyChanges` was `seen` was refused because writes are closed here:
     * read-only until the server says otherwise. When a snapshot or event came meanwhile, it is
     * newer than the refusal and stands.
     * @param {number} seen
     */
    writeRefused(seen) {
      if (seen === this.readOnlyChanges) this.setReadOnly(true);
    }
    /** @param {boolean} readOnly */
    setReadOnly(readOnly) {
      if (this.readOnly === readOnly) return;
      this.readOnly = readOnly;
      this.events.emit("readonly", readOnly);
    }
    /** The transport dropped: events may be missed until the next subscribe answers. */
    disconnected() {
      this.awaitingReplay = false;
      this.setLive(false);
    }
    /** @param {any} event */
    onNewChat(event) {
      if (!event.chat || this.deletedIds.has(event.chat.id)) return;
      this.upsertChat(event.chat);
      if (event.comment) this.comments.set(event.chat.id, [event.comment]);
      this.events.emit("chats");
      this.events.emit("announce", {
        key: "announceNewChat",
        name: event.comment?.author?.name ?? event.chat.author?.name,
        body: event.comment?.body ?? ""
      });
    }
    /** @param {any} event */
    onChatUpdated(event) {
      if (!event.chat || this.deletedIds.has(event.chat.id)) return;
      const change = event.change;
      const known = CHAT_CHANGES.has(change) || change === "comment-added" || change === "comment-edited" || change === "comment-deleted" || change === "comment-hidden" || change === "comment-restored";
      if (!known) return;
      const chatId = event.chat.id;
      this.upsertChat(event.chat);
      const cached = this.comments.get(chatId);
      const comment = event.comment;
      if (cached) {
        if (change === "comment-added" && comment) {
          if (!cached.some((c) => c.id === comment.id)) cached.push(comment);
        } else if (change === "comment-edited" && comment) {
          const index = cached.findIndex((c) => c.id === comment.id);
          if (index >= 0) cached[index] = comment;
        } else if (change === "comment-deleted") {
          const gone = event.commentId ?? comment?.id;
          if (typeof gone === "string") this.dropComment(chatId, gone);
          else this.comments.delete(chatId);
        } else if (change === "comment-hidden" && typeof event.commentId === "string") {
          this.dropComment(chatId, event.commentId);
        } else if (change === "comment-restored" && comment) {
          if (!cached.some((c) => c.id === comment.id)) {
            cached.push(comment);
            cached.sort((a, b) => a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0);
          }
        }
      }
      this.events.emit("chats");
      this.events.emit("thread", chatId);
      if (change === "comment-added" && comment) {
        this.events.emit("announce", {
          key: "announceNewComment",
          name: comment.author?.name,
          body: comment.body
        });
      }
    }
    /**
     * Stores a chat unless we already hold a newer version (a REST answer may arrive after an
     * event about a later change).
     * @param {Chat} chat
     */
    upsertChat(chat) {
      const existing = this.chats.get(chat.id);
      if (existing && !existing.pending && typeof existing.version === "number" && typeof chat.version === "number" && chat.version < existing.version) {
        return;
      }
      this.chats.set(chat.id, chat);
    }
    /** @param {string} chatId @param {boolean} byOthers */
    removeChat(chatId, byOthers) {
      this.deletedIds.add(chatId);
      const had = this.chats.delete(chatId);
      this.comments.delete(chatId);
      if (had) {
        this.events.emit("deleted", { chatId, byOthers });
        this.events.emit("chats");
      }
    }
    /** @param {string} chatId @param {string} commentId */
    dropComment(chatId, commentId) {
      const list = this.comments.get(chatId);
      if (!list) return;
      const index = list.findIndex((c) => c.id === commentId);
      if (index >= 0) list.splice(index, 1);
    }
    /** Sum of comments over all markers, for onCommentCountUpdated. */
    get commentCount() {
      let total = 0;
      for (const chat of this.chats.values()) total += Number(chat.commentCount) || 0;
      return total;
    }
    // --- REST answers and optimistic writes -------------------------------------------------------
    /**
     * A thread read (GET /chats/{id}); comments still being sent from here stay at the end.
     * @param {string} chatId
     * @param {{chat?: Chat, comments?: Comment[]}} answer
     */
    setThread(chatId, answer) {
      if (this.deletedIds.has(chatId)) return;
      if (answer.chat) this.upsertChat(answer.chat);
      const pendingHere = (this.comments.get(chatId) || []).filter((c) => c.pending);
      this.comments.set(chatId, [...answer.comments || [], ...pendingHere]);
      this.events.emit("chats");
      this.events.emit("thread", chatId);
    }
    /**
     * Shows a chat being created at once, under a temporary id.
     * @param {Chat} chat
     * @param {Comment} comment
     */
    addPendingChat(chat, comment) {
      this.chats.set(chat.id, { ...chat, pending: true });
      this.comments.set(chat.id, [{ ...comment, pending: true }]);
      this.events.emit("chats");
    }
    /**
     * The server created it: swap the temporary chat for the real one.
     * @param {string} tempId
     * @param {{chat: Chat, comment?: Comment}} answer
     */
    confirmChat(tempId, answer) {
      this.chats.delete(tempId);
      this.comments.delete(tempId);
      if (!this.deletedIds.has(answer.chat.id)) {
        this.upsertChat(answer.chat);
        if (answer.comment && !this.comments.has(answer.chat.id)) {
          this.comments.set(answer.chat.id, [answer.comment]);
        }
      }
      this.events.emit("replaced", { tempId, chat: answer.chat });
      this.events.emit("chats");
    }
    /** The create failed: the temporary chat goes. @param {string} tempId */
    dropPendingChat(tempId) {
      this.chats.delete(tempId);
      this.comments.delete(tempId);
      this.events.emit("deleted", { chatId: tempId, byOthers: false });
      this.events.emit("chats");
    }
    /** @param {Comment} comment a reply being sent, shown at once */
    addPendingComment(comment) {
      const list = this.comments.get(comment.chatId) || [];
      list.push({ ...comment, pending: true });
      this.comments.set(comment.chatId, list);
      this.events.emit("thread", comment.chatId);
    }
    /**
     * @param {string} chatId
     * @param {string} tempId
     * @param {{chat?: Chat, comment?: Comment} | null} answer null when the write failed
     */
    settleComment(chatId, tempId, answer) {
      this.dropComment(chatId, tempId);
      if (answer && !this.deletedIds.has(chatId)) {
        if (answer.chat) this.upsertChat(answer.chat);
        const current = this.comments.get(chatId);
        const comment = answer.comment;
        if (current && comment && !current.some((c) => c.id === comment.id)) current.push(comment);
        this.events.emit("chats");
      }
      this.events.emit("thread", chatId);
    }
    /**
     * A write's answer about a chat (move, resolve, edit, delete of a comment).
     * @param {{chat?: Chat, comment?: Comment}} answer
     * @param {{editedComment?: boolean, deletedCommentId?: string}} [what]
     */
    applyAnswer(answer, what = {}) {
      const chat = answer.chat;
      if (!chat || this.deletedIds.has(chat.id)) return;
      this.upsertChat(chat);
      const list = this.comments.get(chat.id);
      if (list && what.editedComment && answer.comment) {
        const comment = answer.comment;
        const index = list.findIndex((c) => c.id === comment.id);
        if (index >= 0) list[index] = comment;
      }
      if (what.deletedCommentId) this.dropComment(chat.id, what.deletedCommentId);
      this.events.emit("chats");
      this.events.emit("thread", chat.id);
    }
    /**
     * Moves a marker on screen before the server confirms it.
     * @param {string} chatId
     * @param {number} x
     * @param {number} y
     * @returns {{x: number, y: number} | null} where it was, to put it back if the move fails
     */
    moveLocally(chatId, x, y) {
      const chat = this.chats.get(chatId);
      if (!chat) return null;
      const before = { x: chat.x, y: chat.y };
      this.chats.set(chatId, { ...chat, x, y });
      this.events.emit("chats");
      return before;
    }
  };

  // widget/src/channel.js
  var _Channel = class _Channel {
    /** @param {string} server @param {string} tenantId @param {string} urlId */
    static acquire(server, tenantId, urlId) {
      const key = channelKey(server, tenantId, urlId);
      let channel = _Channel.instances.get(key);
      if (!channel) {
        channel = new _Channel(server, tenantId, urlId);
        _Channel.instances.set(key, channel);
        channel.start();
      }
      channel.users += 1;
      return channel;
    }
    /** @param {string} server @param {string} tenantId @param {string} urlId */
    constructor(server, tenantId, urlId) {
      this.server = server;
      this.tenantId = tenantId;
      this.urlId = urlId;
      this.key = channelKey(server, tenantId, urlId);
      this.api = Api.for(server, tenantId);
      this.connection = LiveConnection.for(server);
      this.store = new ChannelStore(urlId, { isOwn: (id) => ownBroadcastIds.has(id) });
      this.events = this.store.events;
      this.users = 0;
      this.snapshotPromise = null;
      this.sentToken = false;
      this.loadError = null;
      this.snapshotAttempt = 0;
      this.retryTimer = null;
      this.disposed = false;
      this.readIdentity = null;
      this.poller = new Poller(() => this.pollOnce());
    }
    // The store's state, read by the views.
    get chats() {
      return this.store.chats;
    }
    get comments() {
      return this.store.comments;
    }
    get loaded() {
      return this.store.loaded;
    }
    get live() {
      return this.store.live;
    }
    get viewers() {
      return this.store.viewers;
    }
    /** Whether the server refuses writes here except from moderators and admins. */
    get readOnly() {
      return this.store.readOnly;
    }
    get epoch() {
      return this.store.epoch;
    }
    get offset() {
      return this.store.offset;
    }
    get commentCount() {
      return this.store.commentCount;
    }
    /** The token a subscribe carries (private tenants need one). */
    get token() {
      return this.api.session?.token ?? null;
    }
    /** Whether events come by polling GET /events because the socket cannot connect. */
    get polling() {
      return this.connection.polling;
    }
    start() {
      this.connection.add(this);
      this.loadSnapshot();
    }
    release() {
      this.users -= 1;
      if (this.users > 0) return;
      this.disposed = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.poller.stop();
      _Channel.instances.delete(this.key);
      this.connection.remove(this);
    }
    /** @returns {Identity} the identity used for authenticated reads (set by a widget). */
    get identity() {
      return this.readIdentity || {};
    }
    /**
     * Loads GET /chats (one in flight at a time) and then subscribes from its offset.
     * @returns {Promise<void>}
     */
    loadSnapshot() {
      if (this.snapshotPromise) return this.snapshotPromise;
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      this.snapshotPromise = (async () => {
        try {
          const snapshot = await this.api.read(
            `/chats?urlId=${encodeURIComponent(this.urlId)}`,
            this.identity
          );
          if (this.disposed) return;
          this.store.applySnapshot(snapshot);
          this.snapshotAttempt = 0;
          this.loadError = null;
          this.events.emit("status");
          if (this.polling) this.poller.start();
          else this.connection.subscribe(this);
        } catch (err) {
          if (this.disposed) return;
          this.loadError = err instanceof ApiError ? err.code : "network";
          this.events.emit("status");
          this.scheduleSnapshotRetry();
        }
      })().finally(() => {
        this.snapshotPromise = null;
      });
      return this.snapshotPromise;
    }
    scheduleSnapshotRetry() {
      if (browserOffline() || this.retryTimer) return;
      const delay = backoffDelay(this.snapshotAttempt);
      this.snapshotAttempt += 1;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.disposed) this.loadSnapshot();
      }, delay);
    }
    // --- the connection's callbacks --------------------------------------------------------------
    onSocketOpen() {
      if (!this.polling) this.store.disconnected();
      if (this.loaded && !this.snapshotPromise) this.connection.subscribe(this);
      else if (!this.loaded && !this.snapshotPromise) this.loadSnapshot();
    }
    onSocketClosed() {
      if (!this.polling) this.store.disconnected();
    }
    onTransportChanged() {
      if (this.polling) {
        if (this.loaded) this.poller.start();
      } else {
        this.poller.stop();
      }
      this.events.emit("status");
    }
    /** @param {any} message a server message about this channel */
    receive(message) {
      if (message && message.type === "subscribed") this.poller.stop();
      this.act(this.store.receive(message));
    }
    /** @param {Action} action */
    act(action) {
      if (action === "resubscribe") {
        if (this.polling) return;
        if (!this.connection.subscribe(this)) this.store.disconnected();
      } else if (action === "reload") {
        this.resyncFromSnapshot();
      }
    }
    /** Asks GET /events once (the polling transport) and applies what it brings. */
    async pollOnce() {
      if (!this.loaded || this.snapshotPromise || this.store.epoch === null) return;
      const query = `/events?urlId=${encodeURIComponent(this.urlId)}&epoch=${encodeURIComponent(this.store.epoch)}&since=${this.store.offset ?? 0}`;
      const answer = await this.api.read(query, this.identity);
      if (this.disposed || !this.polling) return;
      this.act(this.store.receivePolled(answer));
    }
    /** @returns {Promise<boolean>} whether the server answers over HTTP at all (any status) */
    async reachable() {
      const since = `&epoch=${encodeURIComponent(this.store.epoch ?? "")}&since=${this.store.offset ?? 0}`;
      try {
        await this.api.send("GET", `/events?urlId=${encodeURIComponent(this.urlId)}${since}`);
        return true;
      } catch (err) {
        return err instanceof ApiError && err.status > 0;
      }
    }
    resyncFromSnapshot() {
      if (this.store.failedRecoveries > 3) {
        if (this.retryTimer) return;
        this.retryTimer = setTimeout(
          () => {
            this.retryTimer = null;
            if (!this.disposed) this.loadSnapshot();
          },
          backoffDelay(Math.min(this.store.failedRecoveries, 6))
        );
        return;
      }
      this.loadSnapshot();
    }
    /** @param {any} message */
    onError(message) {
      if (message.code === "unauthorized" && this.sentToken) {
        this.api.forgetSession();
        this.connection.subscribe(this);
        return;
      }
      this.events.emit("error", message);
    }
    // --- reads and writes ----------------------------------------------------------------------
    /** @param {string} chatId */
    async loadThread(chatId) {
      const answer = await this.api.read(`/chats/${encodeURIComponent(chatId)}`, this.identity);
      this.store.setThread(chatId, answer);
    }
    /**
     * A write of this channel. A refusal because writes are closed here makes the channel
     * read-only at once: the server said so, before any event might.
     * @param {string} method
     * @param {string} path
     * @param {Identity} identity
     * @param {unknown} [body]
     */
    async write(method, path, identity, body) {
      const seen = this.store.readOnlyChanges;
      try {
        return await this.api.write(method, path, identity, body);
      } catch (err) {
        if (isReadOnlyRefusal(err)) this.store.writeRefused(seen);
        throw err;
      }
    }
    /** @param {Identity} identity @returns {import("./types.js").User} who is writing */
    author(identity) {
      return this.api.user ?? {
        id: "me",
        name: identity.guestName || this.api.guestName || "",
        avatarUrl: null,
        role: "guest"
      };
    }
    /**
     * Creates a chat: shows it at once under a temporary id, then swaps in the server's answer.
     * @param {{x: number, y: number, body: string, identity: Identity, imageSrc: string}} input
     * @returns {Promise<Chat>}
     */
    async createChat(input) {
      const broadcastId = newBroadcastId();
      const tempId = `temp-${broadcastId}`;
      const now = (/* @__PURE__ */ new Date()).toISOString();
      const author = this.author(input.identity);
      this.store.addPendingChat(
        {
          id: tempId,
          urlId: this.urlId,
          x: input.x,
          y: input.y,
          commentCount: 1,
          resolved: false,
          author,
          createdAt: now,
          updatedAt: now,
          version: 0
        },
        {
          id: `temp-c-${broadcastId}`,
          chatId: tempId,
          body: input.body,
          author,
          createdAt: now,
          editedAt: null
        }
      );
      try {
        const answer = await this.write("POST", "/chats", input.identity, {
          urlId: this.urlId,
          x: input.x,
          y: input.y,
          comment: input.body,
          broadcastId,
          pageUrl: location.origin + location.pathname,
          imageSrc: input.imageSrc || void 0
        });
        this.store.confirmChat(tempId, answer);
        return answer.chat;
      } catch (err) {
        forgetBroadcastId(broadcastId);
        this.store.dropPendingChat(tempId);
        throw err;
      }
    }
    /** @param {string} chatId @param {string} body @param {Identity} identity */
    async addComment(chatId, body, identity) {
      const broadcastId = newBroadcastId();
      const tempId = `temp-c-${broadcastId}`;
      this.store.addPendingComment({
        id: tempId,
        chatId,
        body,
        author: this.author(identity),
        createdAt: (/* @__PURE__ */ new Date()).toISOString(),
        editedAt: null
      });
      try {
        const answer = await this.write(
          "POST",
          `/chats/${encodeURIComponent(chatId)}/comments`,
          identity,
          { comment: body, broadcastId }
        );
        this.store.settleComment(chatId, tempId, answer);
      } catch (err) {
        forgetBroadcastId(broadcastId);
        this.store.settleComment(chatId, tempId, null);
        throw err;
      }
    }
    /**
     * A write under a fresh broadcastId, so that its echo is known as ours. If the write fails,
     * the id is let go of: should it have landed after all, its event is then applied.
     * @param {string} method
     * @param {(broadcastId: string) => string} pathOf
     * @param {Identity} identity
     * @param {(broadcastId: string) => unknown} [bodyOf]
     */
    async ownWrite(method, pathOf, identity, bodyOf) {
      const broadcastId = newBroadcastId();
      try {
        return await this.write(method, pathOf(broadcastId), identity, bodyOf?.(broadcastId));
      } catch (err) {
        forgetBroadcastId(broadcastId);
        throw err;
      }
    }
    /** @param {Comment} comment @param {string} body @param {Identity} identity */
    async editComment(comment, body, identity) {
      const answer = await this.ownWrite(
        "PATCH",
        () => `/comments/${encodeURIComponent(comment.id)}`,
        identity,
        (broadcastId) => ({ comment: body, broadcastId })
      );
      this.store.applyAnswer(answer, { editedComment: true });
    }
    /** @param {Comment} comment @param {Identity} identity */
    async deleteComment(comment, identity) {
      const answer = await this.ownWrite(
        "DELETE",
        (broadcastId) => `/comments/${encodeURIComponent(comment.id)}?broadcastId=${encodeURIComponent(broadcastId)}`,
        identity
      );
      if (answer && answer.chat) {
        this.store.applyAnswer(answer, { deletedCommentId: comment.id });
      } else {
        this.store.removeChat(comment.chatId, false);
      }
    }
    /** @param {string} chatId @param {boolean} resolved @param {Identity} identity */
    async setResolved(chatId, resolved, identity) {
      const answer = await this.ownWrite(
        "PATCH",
        () => `/chats/${encodeURIComponent(chatId)}`,
        identity,
        (broadcastId) => ({ broadcastId, resolved })
      );
      this.store.applyAnswer(answer);
    }
    /**
     * Moves a marker: on screen at once, then on the server; put back where it was on failure.
     * @param {string} chatId @param {number} x @param {number} y
     * @param {{x: number, y: number} | null} from where it was before the move began
     * @param {Identity} identity
     */
    async moveChat(chatId, x, y, from, identity) {
      const shown = this.store.moveLocally(chatId, x, y);
      if (!shown) return;
      const before = from || shown;
      try {
        const answer = await this.ownWrite(
          "PATCH",
          () => `/chats/${encodeURIComponent(chatId)}`,
          identity,
          (broadcastId) => ({ broadcastId, x, y })
        );
        this.store.applyAnswer(answer);
      } catch (err) {
        const now = this.store.chats.get(chatId);
        if (now && now.x === x && now.y === y) this.store.moveLocally(chatId, before.x, before.y);
        throw err;
      }
    }
    /** @param {string} chatId @param {Identity} identity */
    async deleteChat(chatId, identity) {
      await this.ownWrite(
        "DELETE",
        (broadcastId) => `/chats/${encodeURIComponent(chatId)}?broadcastId=${encodeURIComponent(broadcastId)}`,
        identity
      );
      this.store.removeChat(chatId, false);
    }
  };
  /** @type {Map<string, Channel>} */
  __publicField(_Channel, "instances", /* @__PURE__ */ new Map());
  var Channel = _Channel;

  // widget/src/image-identity.js
  function deriveUrlId(img) {
    const src = img.getAttribute("src") ? img.src : img.currentSrc || "";
    if (!src || /^(data|blob|about):/i.test(src)) return null;
    const id = `${location.origin}${location.pathname}|${src}`;
    return id.length <= 512 ? id : `${id.slice(0, 500)}#${shortHash(id)}`;
  }
  function watchSource(img, onChange) {
    const observer = new MutationObserver(onChange);
    observer.observe(img, { attributes: true, attributeFilter: ["src", "srcset"] });
    img.addEventListener("load", onChange);
    return () => {
      observer.disconnect();
      img.removeEventListener("load", onChange);
    };
  }

  // widget/src/layout.js
  var FULLSCREEN_BELOW_PX = 768;
  function isNarrowViewport() {
    const vw = document.documentElement.clientWidth || window.innerWidth;
    return vw < FULLSCREEN_BELOW_PX;
  }
  function parseObjectPosition(value, freeX, freeY) {
    const parts = String(value || "50% 50%").trim().split(/\s+/);
    const one = (part, free) => {
      if (!part) return free / 2;
      if (part.endsWith("%")) return parseFloat(part) / 100 * free;
      if (part.endsWith("px")) return parseFloat(part);
      if (part === "left" || part === "top") return 0;
      if (part === "right" || part === "bottom") return free;
      return free / 2;
    };
    return [one(parts[0], freeX), one(parts[1] ?? parts[0], freeY)];
  }
  function renderedImageBox(img) {
    const rect = img.getBoundingClientRect();
    const style = getComputedStyle(img);
    const px = (v) => parseFloat(v) || 0;
    const left = rect.left + px(style.borderLeftWidth) + px(style.paddingLeft);
    const top = rect.top + px(style.borderTopWidth) + px(style.paddingTop);
    const width = Math.max(
      0,
      rect.right - px(style.borderRightWidth) - px(style.paddingRight) - left
    );
    const height = Math.max(
      0,
      rect.bottom - px(style.borderBottomWidth) - px(style.paddingBottom) - top
    );
    const box = { left, top, width, height, clip: { top: 0, right: 0, bottom: 0, left: 0 } };
    const nw = img.naturalWidth;
    const nh = img.naturalHeight;
    const fit = style.objectFit;
    if (!nw || !nh || !width || !height || !fit || fit === "fill") return box;
    const sx = width / nw;
    const sy = height / nh;
    let scale;
    if (fit === "contain") scale = Math.min(sx, sy);
    else if (fit === "cover") scale = Math.max(sx, sy);
    else if (fit === "none") scale = 1;
    else if (fit === "scale-down") scale = Math.min(1, Math.min(sx, sy));
    else return box;
    const w = nw * scale;
    const h = nh * scale;
    const [offsetX, offsetY] = parseObjectPosition(style.objectPosition, width - w, height - h);
    const drawn = { left: left + offsetX, top: top + offsetY, width: w, height: h };
    return {
      ...drawn,
      clip: {
        left: Math.max(0, left - drawn.left),
        top: Math.max(0, top - drawn.top),
        right: Math.max(0, drawn.left + w - (left + width)),
        bottom: Math.max(0, drawn.top + h - (top + height))
      }
    };
  }
  function placeAtViewport(node, x, y) {
    const current = node.getBoundingClientRect();
    const left = parseFloat(node.style.left) || 0;
    const top = parseFloat(node.style.top) || 0;
    node.style.left = `${left + (x - current.left)}px`;
    node.style.top = `${top + (y - current.top)}px`;
  }
  function chooseFloatingPosition(anchor, w, h) {
    const gap = 8;
    const margin = 8;
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const vh = window.innerHeight;
    const midY = (anchor.top + anchor.bottom) / 2;
    const midX = (anchor.left + anchor.right) / 2;
    const clampX = (x) => Math.max(margin, Math.min(x, vw - w - margin));
    const clampY = (y) => Math.max(margin, Math.min(y, vh - h - margin));
    const candidates = [
      {
        side: "right",
        x: anchor.right + gap,
        y: clampY(midY - Math.min(h / 2, 40)),
        room: vw - anchor.right - gap - margin,
        need: w
      },
      {
        side: "left",
        x: anchor.left - gap - w,
        y: clampY(midY - Math.min(h / 2, 40)),
        room: anchor.left - gap - margin,
        need: w
      },
      {
        side: "below",
        x: clampX(midX - w / 2),
        y: anchor.bottom + gap,
        room: vh - anchor.bottom - gap - margin,
        need: h
      },
      {
        side: "above",
        x: clampX(midX - w / 2),
        y: anchor.top - gap - h,
        room: anchor.top - gap - margin,
        need: h
      }
    ];
    const fitting = candidates.find((c) => c.room >= c.need);
    if (fitting) return fitting;
    const best = candidates.reduce((a, b) => b.room / b.need > a.room / a.need ? b : a);
    return { ...best, x: clampX(best.x), y: clampY(best.y) };
  }
  function placeFloating(node, anchor) {
    const fullscreen = isNarrowViewport();
    node.classList.toggle("imagechat-floating--fullscreen", fullscreen);
    if (fullscreen) {
      node.style.left = "";
      node.style.top = "";
      return true;
    }
    if (!node.style.left) {
      node.style.left = "0px";
      node.style.top = "0px";
    }
    const size = node.getBoundingClientRect();
    const spot = chooseFloatingPosition(anchor, size.width || 300, size.height || 200);
    node.dataset.side = spot.side;
    placeAtViewport(node, spot.x, spot.y);
    return false;
  }

  // widget/src/limits.js
  var MAX_COMMENT_LENGTH = 2e3;

  // widget/src/staff.js
  function isStaff(user) {
    return Boolean(user && (user.role === "moderator" || user.role === "admin"));
  }
  function ssoNamesStaff(sso) {
    if (!sso || typeof sso.userDataJSONBase64 !== "string") return false;
    try {
      const bytes = Uint8Array.from(atob(sso.userDataJSONBase64), (c) => c.charCodeAt(0));
      const user = JSON.parse(new TextDecoder().decode(bytes));
      return Boolean(user) && (user.isAdmin === true || user.isModerator === true);
    } catch {
      return false;
    }
  }

  // widget/src/views/crop.js
  var ZOOM = 1.6;
  function imageCrop(img, x, y, label) {
    const src = img.currentSrc || img.src;
    const picture = (
      /** @type {HTMLImageElement} */
      el("img", { class: "imagechat-crop-image", src, alt: "", draggable: "false" })
    );
    const frame = el("div", { class: "imagechat-crop", role: "img", "aria-label": label }, [
      picture,
      el("span", { class: "imagechat-crop-pin", "aria-hidden": "true" })
    ]);
    const ratio = img.naturalWidth && img.naturalHeight ? img.naturalHeight / img.naturalWidth : 0.66;
    picture.style.width = `${ZOOM * 100}%`;
    picture.style.left = `calc(50% - ${(ZOOM * x).toFixed(3)}%)`;
    picture.style.top = `calc(var(--imagechat-crop-height, 180px) / 2 - ${(ZOOM * ratio * y).toFixed(3)}cqw)`;
    return frame;
  }

  // widget/src/views/composer.js
  var ComposerView = class {
    /** @param {Widget} widget */
    constructor(widget) {
      this.widget = widget;
      this.node = /** @type {HTMLFormElement} */
      el("form", {
        class: "imagechat-composer imagechat-floating",
        hidden: true,
        novalidate: true
      });
      this.at = null;
      this.ghost = el("div", { class: "imagechat-ghost", "aria-hidden": "true", hidden: true });
      widget.surface.append(this.ghost);
      this.node.addEventListener("keydown", (event) => widget.onEscape(event));
      this.node.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submit();
      });
    }
    get isOpen() {
      return !this.node.hidden;
    }
    /** Shows the ghost alone (keyboard placement before the form opens). */
    /** @param {number} x @param {number} y */
    showGhost(x, y) {
      this.ghost.style.left = `${x}%`;
      this.ghost.style.top = `${y}%`;
      this.ghost.hidden = false;
    }
    hideGhost() {
      this.ghost.hidden = true;
    }
    /** @param {number} x @param {number} y */
    open(x, y) {
      this.widget.thread.close(false);
      const previous = (
        /** @type {HTMLTextAreaElement | null} */
        this.node.querySelector("textarea")
      );
      this.at = { x, y };
      this.render(previous ? previous.value : "", "");
      this.showGhost(x, y);
      this.node.hidden = false;
      this.position();
      const first = this.node.querySelector("input[name=name]") || this.node.querySelector("textarea");
      if (first) first.focus();
    }
    /** @param {string} text @param {string} error */
    render(text, error) {
      const widget = this.widget;
      const hintId = `imagechat-shortcut-${widget.uid}`;
      const area = (
        /** @type {HTMLTextAreaElement} */
        el("textarea", {
          name: "comment",
          rows: "3",
          maxlength: String(MAX_COMMENT_LENGTH),
          placeholder: widget.t("composerPlaceholder"),
          "aria-label": widget.t("composerLabel"),
          "aria-describedby": hintId
        })
      );
      area.value = text;
      submitOnCtrlEnter(area, this.node);
      const cancel = el("button", {
        type: "button",
        class: "imagechat-button imagechat-cancel",
        text: widget.t("cancel")
      });
      cancel.addEventListener("click", () => this.close(true));
      const at = this.at;
      setChildren(this.node, [
        at && isNarrowViewport() ? imageCrop(widget.img, at.x, at.y, widget.t("imageCrop")) : null,
        el("div", { class: "imagechat-composer-title", text: widget.t("composerLabel") }),
        widget.needsName() ? widget.nameField() : null,
        area,
        el("div", { class: "imagechat-error", role: "alert", text: error, hidden: !error }),
        el("div", { class: "imagechat-actions" }, [
          el("span", {
            id: hintId,
            class: "imagechat-shortcut",
            text: widget.t("sendShortcut", { key: usesCommandKey() ? "⌘" : "Ctrl" })
          }),
          cancel,
          el("button", {
            type: "submit",
            class: "imagechat-button imagechat-button--primary imagechat-submit",
            text: widget.t("post")
          })
        ])
      ]);
      this.node.setAttribute("aria-label", widget.t("composerLabel"));
      if (widget.isReadOnly()) this.setLocked(true);
    }
    /**
     * Follows the widget's read-only state while open: with nothing typed it closes; with text it
     * stays and refuses to send, so nothing typed is lost and it posts again once writes reopen.
     */
    followReadOnly() {
      if (!this.isOpen) return;
      const locked = this.widget.isReadOnly();
      const area = this.node.querySelector("textarea");
      if (locked && !(area && area.value.trim())) {
        this.close(false);
        return;
      }
      this.setLocked(locked);
    }
    /** @param {boolean} locked whether sending is refused (the text stays, to copy) */
    setLocked(locked) {
      for (const field of this.node.querySelectorAll("textarea, input")) {
        field.readOnly = locked;
      }
      const submit = (
        /** @type {HTMLButtonElement | null} */
        this.node.querySelector(".imagechat-submit")
      );
      if (submit) submit.disabled = locked;
      const box = (
        /** @type {HTMLElement | null} */
        this.node.querySelector(".imagechat-error")
      );
      const note = this.widget.t("readOnlyNotice");
      if (locked) this.showError(note);
      else if (box && box.textContent === note) box.hidden = true;
    }
    /** @param {string} message */
    showError(message) {
      const box = (
        /** @type {HTMLElement | null} */
        this.node.querySelector(".imagechat-error")
      );
      if (box) showError(box, message);
    }
    /** @param {boolean} refocus */
    close(refocus) {
      if (!this.isOpen) return;
      this.node.hidden = true;
      this.node.replaceChildren();
      this.at = null;
      this.ghost.hidden = true;
      if (refocus && !this.widget.isReadOnly())
        this.widget.surface.focus({ preventScroll: true });
    }
    submit() {
      const widget = this.widget;
      if (!this.isOpen || !this.at) return;
      const area = (
        /** @type {HTMLTextAreaElement} */
        this.node.querySelector("textarea")
      );
      const body = area.value;
      if (widget.isReadOnly()) {
        this.showError(widget.t("readOnlyNotice"));
        return;
      }
      if (browserOffline()) {
        this.showError(widget.t("offlineSend"));
        return;
      }
      const invalid = widget.checkBody(body) || widget.takeGuestName(this.node);
      if (invalid) {
        this.showError(invalid);
        return;
      }
      const { x, y } = this.at;
      this.close(false);
      const imageSrc = widget.img.currentSrc || widget.img.src;
      const channel = widget.bound;
      const created = channel.createChat({
        x,
        y,
        body: body.trim(),
        identity: widget.identity,
        imageSrc
      });
      widget.focusNewestPending();
      created.catch((err) => {
        if (widget.destroyed || widget.channel !== channel) return;
        const message = widget.errorText(err);
        widget.showNotice(widget.t("createFailed", { message }));
        this.open(x, y);
        const again = (
          /** @type {HTMLTextAreaElement | null} */
          this.node.querySelector("textarea")
        );
        if (again) again.value = body;
        this.showError(message);
      });
    }
    position() {
      if (!this.isOpen || !this.at) return;
      const rect = this.widget.surface.getBoundingClientRect();
      const half = this.widget.config.chatSquarePercentage / 100 * rect.width / 2;
      const cx = rect.left + this.at.x / 100 * rect.width;
      const cy = rect.top + this.at.y / 100 * rect.height;
      placeFloating(this.node, {
        left: cx - half,
        right: cx + half,
        top: cy - half,
        bottom: cy + half
      });
    }
  };

  // widget/src/clusters.js
  function clusterMarkers(items, width, height, size) {
    const groups = [];
    for (const item of items) {
      const px = item.x / 100 * width;
      const py = item.y / 100 * height;
      const near = size > 0 ? groups.find((g) => Math.hypot(g.px - px, g.py - py) < size) : void 0;
      if (near) {
        near.items.push(item);
        const n = near.items.length;
        near.px += (px - near.px) / n;
        near.py += (py - near.py) / n;
        near.x += (item.x - near.x) / n;
        near.y += (item.y - near.y) / n;
      } else {
        groups.push({ x: item.x, y: item.y, px, py, items: [item] });
      }
    }
    return groups.map(({ x, y, items: members }) => ({ x, y, items: members }));
  }

  // widget/src/people.js
  function initials(name) {
    const words = String(name || "").trim().split(/\s+/).filter(Boolean);
    if (!words.length) return "?";
    const first = Array.from(words[0])[0] || "";
    const last = words.length > 1 ? Array.from(words[words.length - 1])[0] || "" : "";
    return (first + last).toUpperCase();
  }
  function personColour(user) {
    const key = user?.id && user.id !== "me" ? user.id : user?.name || "";
    const hue = parseInt(shortHash(key), 16) % 360;
    return `hsl(${hue} 65% 28%)`;
  }

  // widget/src/views/marker.js
  function createMarker() {
    const button = (
      /** @type {HTMLButtonElement} */
      el("button", { type: "button", class: "imagechat-marker" }, [
        el("span", { class: "imagechat-marker-face", "aria-hidden": "true" }),
        el("span", { class: "imagechat-marker-count", "aria-hidden": "true" })
      ])
    );
    return button;
  }
  function updateMarker(button, chat, state) {
    button.dataset.chatId = chat.id;
    button.style.left = `${chat.x}%`;
    button.style.top = `${chat.y}%`;
    button.style.setProperty("--imagechat-pin-colour", personColour(chat.author));
    button.classList.toggle("imagechat-marker--resolved", Boolean(chat.resolved));
    button.classList.toggle("imagechat-marker--pending", Boolean(chat.pending));
    button.classList.toggle("imagechat-marker--open", state.open);
    button.classList.toggle("imagechat-marker--movable", state.movable);
    button.setAttribute("aria-expanded", state.open ? "true" : "false");
    button.setAttribute("aria-label", state.label);
    const face = (
      /** @type {HTMLElement} */
      button.querySelector(".imagechat-marker-face")
    );
    const avatarUrl = chat.author?.avatarUrl;
    const want = isSafeImageUrl(avatarUrl) ? `img:${avatarUrl}` : `text:${initials(chat.author?.name)}`;
    if (face.dataset.shows !== want) {
      face.dataset.shows = want;
      if (want.startsWith("img:")) {
        face.replaceChildren(
          el("img", {
            class: "imagechat-marker-avatar",
            src: avatarUrl,
            alt: "",
            referrerpolicy: "no-referrer",
            draggable: "false"
          })
        );
      } else {
        face.textContent = want.slice(5);
      }
    }
    const count = (
      /** @type {HTMLElement} */
      button.querySelector(".imagechat-marker-count")
    );
    count.textContent = String(Number(chat.commentCount) || 0);
  }

  // widget/src/views/markers.js
  var DRAG_THRESHOLD_PX = 4;
  var KEY_MOVE_SETTLE_MS = 400;
  var MarkerLayer = class {
    /** @param {Widget} widget */
    constructor(widget) {
      this.widget = widget;
      this.buttons = /* @__PURE__ */ new Map();
      this.clusters = [];
      this.keyMove = null;
      this.dragging = null;
      this.suppressClick = false;
      this.clusterList = el("div", {
        class: "imagechat-cluster-list",
        role: "menu",
        hidden: true
      });
      this.clusterList.addEventListener("keydown", (event) => this.onListKey(event));
      this.toggle = /** @type {HTMLButtonElement} */
      el("button", {
        type: "button",
        class: "imagechat-toggle-resolved",
        "aria-pressed": "false",
        hidden: true
      });
      this.toggle.addEventListener("click", () => {
        widget.hideResolved = !widget.hideResolved;
        this.render();
      });
      widget.surface.addEventListener("pointerdown", (event) => this.onPointerDown(event));
      widget.surface.addEventListener("keydown", (event) => this.onKey(event));
      widget.surface.addEventListener(
        "click",
        (event) => {
          if (this.suppressClick) {
            this.suppressClick = false;
            event.stopPropagation();
            event.preventDefault();
          }
        },
        { capture: true }
      );
    }
    /** @param {string} chatId */
    get(chatId) {
      return this.buttons.get(chatId) || null;
    }
    /** The element a thread of this chat is anchored to: its marker, or its cluster badge. */
    /** @param {string} chatId @returns {HTMLElement | null} */
    anchorOf(chatId) {
      const button = this.buttons.get(chatId);
      if (!button) return null;
      if (!button.hidden) return button;
      return this.clusters.find((c) => (c.dataset.chatIds || "").split(" ").includes(chatId)) || null;
    }
    /** A temporary id became the real one: keep the same button (and so its focus). */
    /** @param {string} tempId @param {string} chatId */
    rename(tempId, chatId) {
      const button = this.buttons.get(tempId);
      if (button && !this.buttons.has(chatId)) {
        this.buttons.delete(tempId);
        this.buttons.set(chatId, button);
        button.dataset.chatId = chatId;
      }
    }
    clear() {
      for (const button of this.buttons.values()) button.remove();
      this.buttons.clear();
      for (const badge of this.clusters) badge.remove();
      this.clusters = [];
      this.closeClusterList();
      this.toggle.hidden = true;
    }
    render() {
      const widget = this.widget;
      const chats = widget.channel ? widget.bound.chats : /* @__PURE__ */ new Map();
      for (const [id, button] of this.buttons) {
        if (chats.has(id)) continue;
        if (document.activeElement === button) widget.surface.focus({ preventScroll: true });
        button.remove();
        this.buttons.delete(id);
      }
      let resolvedCount = 0;
      const shown = [];
      for (const chat of chats.values()) {
        let button = this.buttons.get(chat.id);
        if (!button) {
          button = createMarker();
          this.buttons.set(chat.id, button);
          widget.surface.append(button);
        }
        if (chat.resolved) resolvedCount += 1;
        const open = chat.id === widget.thread.chatId;
        const hidden = widget.hideResolved && chat.resolved && !open;
        button.hidden = hidden;
        updateMarker(button, chat, {
          open,
          movable: widget.canMove(chat),
          label: this.label(chat)
        });
        if (!hidden) shown.push(chat);
      }
      this.toggle.hidden = resolvedCount === 0;
      this.toggle.textContent = widget.t("hideResolved");
      this.toggle.setAttribute("aria-pressed", widget.hideResolved ? "true" : "false");
      this.renderClusters(shown);
      widget.reportCommentCount();
    }
    /** @param {Chat} chat */
    label(chat) {
      const widget = this.widget;
      const count = Number(chat.commentCount) || 0;
      let label = widget.t("markerLabel", {
        name: chat.author?.name || widget.t("unknownUser"),
        count
      });
      if (chat.resolved) label += `, ${widget.t("markerResolved")}`;
      if (chat.pending) label += `, ${widget.t("markerPending")}`;
      if (widget.canMove(chat)) label += `. ${widget.t("markerMoveHint")}`;
      return label;
    }
    /** @param {Chat[]} shown */
    renderClusters(shown) {
      const widget = this.widget;
      const rect = widget.surface.getBoundingClientRect();
      const coarse = typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;
      const drawn = widget.config.chatSquarePercentage / 100 * rect.width;
      const size = coarse ? Math.max(drawn, 32) : drawn;
      const active = this.keyMove?.chatId ?? this.dragging?.chatId ?? widget.thread.chatId;
      const candidates = shown.filter((chat) => chat.id !== active).sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
      const groups = clusterMarkers(candidates, rect.width, rect.height, size).filter(
        (g) => g.items.length > 1
      );
      const hadFocus = this.clusters.find((c) => c === document.activeElement)?.dataset.chatIds;
      for (const badge of this.clusters) badge.remove();
      this.clusters = [];
      for (const group of groups) {
        const ids = group.items.map((chat) => chat.id);
        for (const id of ids) {
          const button = this.buttons.get(id);
          if (button) button.hidden = true;
        }
        const badge = (
          /** @type {HTMLButtonElement} */
          el("button", {
            type: "button",
            class: "imagechat-cluster",
            "data-chat-ids": ids.join(" "),
            "aria-haspopup": "menu",
            "aria-label": widget.t("clusterLabel", { count: ids.length }),
            text: String(ids.length)
          })
        );
        badge.style.left = `${group.x}%`;
        badge.style.top = `${group.y}%`;
        widget.surface.append(badge);
        this.clusters.push(badge);
        if (hadFocus && hadFocus === badge.dataset.chatIds) badge.focus({ preventScroll: true });
      }
      if (!this.clusterList.hidden) {
        const still = this.clusters.find((c) => c.dataset.chatIds === this.clusterList.dataset.for);
        if (still) this.openClusterList(still, false);
        else this.closeClusterList();
      }
    }
    /**
     * The list of conversations behind a count badge.
     * @param {HTMLButtonElement} badge
     * @param {boolean} focus
     */
    openClusterList(badge, focus) {
      const widget = this.widget;
      const ids = (badge.dataset.chatIds || "").split(" ").filter(Boolean);
      this.clusterList.dataset.for = badge.dataset.chatIds || "";
      this.clusterList.setAttribute("aria-label", widget.t("clusterLabel", { count: ids.length }));
      const items = [];
      for (const id of ids) {
        const chat = widget.bound.chats.get(id);
        if (!chat) continue;
        const item = el("button", {
          type: "button",
          role: "menuitem",
          class: "imagechat-cluster-item",
          "data-chat-id": id,
          text: this.label(chat)
        });
        item.addEventListener("click", () => {
          this.closeClusterList();
          widget.thread.open(id, badge);
        });
        items.push(item);
      }
      this.clusterList.replaceChildren(...items);
      this.clusterList.style.left = badge.style.left;
      this.clusterList.style.top = badge.style.top;
      this.clusterList.hidden = false;
      badge.setAttribute("aria-expanded", "true");
      if (focus && items[0]) items[0].focus({ preventScroll: true });
    }
    /** A menu's keys: arrows move between its items, Escape goes back to the badge. */
    /** @param {KeyboardEvent} event */
    onListKey(event) {
      const items = (
        /** @type {HTMLElement[]} */
        Array.from(this.clusterList.querySelectorAll(".imagechat-cluster-item"))
      );
      const index = items.indexOf(
        /** @type {HTMLElement} */
        document.activeElement
      );
      let next = -1;
      if (event.key === "ArrowDown") next = (index + 1) % items.length;
      else if (event.key === "ArrowUp") next = (index - 1 + items.length) % items.length;
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = items.length - 1;
      else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        const badge = this.clusters.find((c) => c.dataset.chatIds === this.clusterList.dataset.for);
        this.closeClusterList();
        if (badge) badge.focus({ preventScroll: true });
        return;
      }
      if (next < 0 || !items[next]) return;
      event.preventDefault();
      items[next].focus({ preventScroll: true });
    }
    closeClusterList() {
      if (this.clusterList.hidden) return false;
      this.clusterList.hidden = true;
      this.clusterList.replaceChildren();
      return true;
    }
    // --- moving ----------------------------------------------------------------------------------
    /** @param {PointerEvent} event */
    onPointerDown(event) {
      const widget = this.widget;
      const target = event.target instanceof Element ? event.target : null;
      const button = (
        /** @type {HTMLButtonElement | null} */
        target && target.closest(".imagechat-marker")
      );
      if (!button || event.button !== 0) return;
      const chat = widget.bound.chats.get(button.dataset.chatId || "");
      if (!chat || !widget.canMove(chat)) return;
      const startX = event.clientX;
      const startY = event.clientY;
      const from = { x: chat.x, y: chat.y };
      let moved = false;
      try {
        button.setPointerCapture(event.pointerId);
      } catch {
      }
      const onMove = (move) => {
        if (!moved && Math.hypot(move.clientX - startX, move.clientY - startY) < DRAG_THRESHOLD_PX)
          return;
        if (!moved) {
          moved = true;
          this.dragging = { chatId: chat.id };
          button.classList.add("imagechat-marker--dragging");
        }
        move.preventDefault();
        const spot = widget.percentAt(move.clientX, move.clientY);
        if (spot) widget.bound.store.moveLocally(chat.id, spot.x, spot.y);
      };
      const onUp = (up) => {
        button.removeEventListener("pointermove", onMove);
        button.removeEventListener("pointerup", onUp);
        button.removeEventListener("pointercancel", onCancel);
        if (!moved) return;
        this.dragging = null;
        button.classList.remove("imagechat-marker--dragging");
        this.suppressClick = true;
        setTimeout(() => {
          this.suppressClick = false;
        }, 0);
        const spot = widget.percentAt(up.clientX, up.clientY);
        if (!spot || spot.x === from.x && spot.y === from.y) {
          widget.bound.store.moveLocally(chat.id, from.x, from.y);
          return;
        }
        this.commitMove(chat.id, spot.x, spot.y, from);
      };
      const onCancel = () => {
        button.removeEventListener("pointermove", onMove);
        button.removeEventListener("pointerup", onUp);
        button.removeEventListener("pointercancel", onCancel);
        const wasDragging = this.dragging;
        this.dragging = null;
        button.classList.remove("imagechat-marker--dragging");
        if (wasDragging) widget.bound.store.moveLocally(chat.id, from.x, from.y);
      };
      button.addEventListener("pointermove", onMove);
      button.addEventListener("pointerup", onUp);
      button.addEventListener("pointercancel", onCancel);
    }
    /** Arrow keys on a focused marker that may be moved. @param {KeyboardEvent} event */
    onKey(event) {
      const widget = this.widget;
      const target = event.target instanceof HTMLElement ? event.target : null;
      if (target && target.classList.contains("imagechat-cluster")) {
        if (event.key === "Escape" && this.closeClusterList()) event.preventDefault();
        return;
      }
      if (!target || !target.classList.contains("imagechat-marker")) return;
      const step = arrowStep(event);
      if (!step) return;
      const chatId = target.dataset.chatId || "";
      const chat = widget.bound.chats.get(chatId);
      if (!chat || !widget.canMove(chat)) return;
      event.preventDefault();
      const current = this.keyMove && this.keyMove.chatId === chatId ? this.keyMove : null;
      const base = current ? { x: current.x, y: current.y } : { x: chat.x, y: chat.y };
      const x = clampPercent(base.x + step.dx);
      const y = clampPercent(base.y + step.dy);
      if (current) clearTimeout(current.timer);
      const from = current ? current.from : { x: chat.x, y: chat.y };
      widget.bound.store.moveLocally(chatId, x, y);
      this.keyMove = {
        chatId,
        x,
        y,
        from,
        timer: setTimeout(() => {
          this.keyMove = null;
          this.commitMove(chatId, x, y, from);
        }, KEY_MOVE_SETTLE_MS)
      };
    }
    /**
     * Sends a move already shown on screen.
     * @param {string} chatId @param {number} x @param {number} y
     * @param {{x: number, y: number}} from where it was before, to go back to on failure
     */
    commitMove(chatId, x, y, from) {
      const widget = this.widget;
      widget.bound.moveChat(chatId, x, y, from, widget.identity).then(
        () => widget.announce(widget.t("markerMoved", { x: Math.round(x), y: Math.round(y) })),
        (err) => {
          if (!widget.destroyed) {
            widget.showNotice(widget.t("moveFailed", { message: widget.errorText(err) }));
            this.render();
          }
        }
      );
    }
  };
  function arrowStep(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return null;
    const size = event.shiftKey ? 5 : 1;
    switch (event.key) {
      case "ArrowLeft":
        return { dx: -size, dy: 0 };
      case "ArrowRight":
        return { dx: size, dy: 0 };
      case "ArrowUp":
        return { dx: 0, dy: -size };
      case "ArrowDown":
        return { dx: 0, dy: size };
      default:
        return null;
    }
  }

  // widget/src/views/thread.js
  var CLOCK_MS = 3e4;
  var ThreadView = class {
    /** @param {Widget} widget */
    constructor(widget) {
      this.widget = widget;
      this.node = el("div", {
        class: "imagechat-thread imagechat-floating",
        role: "dialog",
        hidden: true,
        tabindex: "-1"
      });
      this.chatId = null;
      this.returnFocusTo = null;
      this.editingCommentId = null;
      this.error = "";
      this.returnedReply = "";
      this.loading = false;
      this.clock = 0;
      this.copied = false;
      this.node.addEventListener("keydown", (event) => widget.onEscape(event));
    }
    get isOpen() {
      return !this.node.hidden;
    }
    /** @param {string} chatId @param {HTMLElement | null} marker what to refocus on close */
    open(chatId, marker) {
      const widget = this.widget;
      widget.composer.close(false);
      const chat = widget.bound.chats.get(chatId);
      if (!chat) return;
      this.chatId = chatId;
      this.editingCommentId = null;
      this.returnedReply = "";
      this.returnFocusTo = marker;
      this.error = "";
      this.loading = false;
      this.render();
      this.node.hidden = false;
      this.position();
      widget.renderMarkers();
      this.node.focus({ preventScroll: true });
      if (!chat.pending) this.refresh();
      if (!this.clock) this.clock = setInterval(() => this.render(), CLOCK_MS);
    }
    /** Loads the comments; cached ones stay on screen meanwhile (and offline). */
    refresh() {
      const chatId = this.chatId;
      if (!chatId) return;
      const widget = this.widget;
      const cached = widget.bound.comments.get(chatId);
      if (browserOffline()) {
        if (!cached) {
          this.error = widget.t("offlineNoCache");
          this.render();
        }
        return;
      }
      this.error = "";
      this.loading = !cached;
      this.render();
      widget.bound.loadThread(chatId).then(
        () => {
          if (this.chatId !== chatId) return;
          this.loading = false;
          this.render();
        },
        (err) => {
          if (this.chatId !== chatId) return;
          this.loading = false;
          if (!widget.bound.comments.get(chatId)) {
            this.error = browserOffline() ? widget.t("offlineNoCache") : widget.t("loadFailed", { message: widget.errorText(err) });
          }
          this.render();
        }
      );
    }
    /** @param {boolean} refocus */
    close(refocus) {
      if (!this.isOpen && !this.chatId) return;
      const hadFocusInside = this.node.contains(document.activeElement);
      const chatId = this.chatId;
      this.node.hidden = true;
      this.node.replaceChildren();
      this.chatId = null;
      this.editingCommentId = null;
      if (this.clock) clearInterval(this.clock);
      this.clock = 0;
      this.widget.renderMarkers();
      const target = this.returnFocusTo && this.returnFocusTo.isConnected ? this.returnFocusTo : chatId ? this.widget.markers.anchorOf(chatId) : null;
      this.returnFocusTo = null;
      if ((refocus || hadFocusInside) && target && target.isConnected) {
        target.focus({ preventScroll: true });
      }
    }
    /** A temporary marker got its server id while its thread was open. */
    /** @param {string} tempId @param {Chat} chat */
    onReplaced(tempId, chat) {
      if (this.chatId !== tempId) return;
      this.chatId = chat.id;
      this.render();
    }
    /** Back online: a thread that could not load while offline loads now. */
    onOnline() {
      if (this.chatId && this.error) this.refresh();
    }
    /** @param {Chat} chat */
    canModerate(chat) {
      return this.widget.canMove(chat);
    }
    /**
     * Re-renders the whole window. Live updates call this often, so it keeps what the user is
     * typing (reply, name, edit draft), the scroll position and the focus.
     */
    render() {
      const widget = this.widget;
      const chatId = this.chatId;
      const chat = chatId ? widget.bound.chats.get(chatId) : null;
      if (!chatId || !chat) return;
      const find = (selector) => (
        /** @type {HTMLTextAreaElement | HTMLInputElement | null} */
        this.node.querySelector(selector)
      );
      const replyDraft = find(".imagechat-reply textarea")?.value || this.returnedReply;
      this.returnedReply = "";
      const readOnly = widget.isReadOnly();
      const nameDraft = find(".imagechat-reply input[name=name]")?.value ?? null;
      const editDraft = find(".imagechat-comment--editing textarea")?.value ?? null;
      const scrollTop = this.node.querySelector(".imagechat-comments")?.scrollTop ?? 0;
      const focusKey = this.focusKey();
      const authorName = chat.author?.name || widget.t("unknownUser");
      const titleId = `imagechat-thread-title-${shortHash(chatId)}`;
      this.node.setAttribute("aria-labelledby", titleId);
      this.node.setAttribute("aria-label", widget.t("threadLabel", { name: authorName }));
      const comments = widget.bound.comments.get(chatId);
      const list = el("ol", { class: "imagechat-comments" });
      for (const comment of comments || []) {
        const draft = comment.id === this.editingCommentId ? editDraft ?? comment.body : null;
        list.append(this.commentItem(comment, draft, readOnly));
      }
      let status = null;
      if (this.loading && !comments) {
        status = el("p", { class: "imagechat-thread-status", text: widget.t("loading") });
      } else if (this.error) {
        status = el("p", {
          class: "imagechat-thread-status imagechat-error",
          role: "alert",
          text: this.error
        });
      }
      setChildren(this.node, [
        isNarrowViewport() ? imageCrop(widget.img, chat.x, chat.y, widget.t("imageCrop")) : null,
        this.header(chat, titleId, authorName),
        status,
        list,
        // Read-only: no reply form, unless it holds typed text, which stays (not sendable).
        readOnly && !replyDraft.trim() ? null : this.replyForm(chat, replyDraft, readOnly)
      ]);
      const name = find(".imagechat-reply input[name=name]");
      if (name && nameDraft !== null) name.value = nameDraft;
      const scroller = this.node.querySelector(".imagechat-comments");
      if (scroller) scroller.scrollTop = scrollTop;
      if (focusKey !== null) this.restoreFocus(focusKey);
      this.position();
    }
    /**
     * Describes the focused element inside the thread (if any) well enough to find its
     * replacement after a re-render, so live updates never throw keyboard users out.
     * @returns {string | null}
     */
    focusKey() {
      const active = document.activeElement;
      if (!active || !this.node.contains(active)) return null;
      if (active === this.node) return "";
      const classes = Array.from(active.classList).filter(
        (c) => c.startsWith("imagechat-") && !c.endsWith("--armed")
      );
      const selector = active.tagName.toLowerCase() + classes.map((c) => `.${c}`).join("");
      const comment = (
        /** @type {HTMLElement | null} */
        active.closest(".imagechat-comment")
      );
      if (comment)
        return `[data-comment-id="${CSS.escape(comment.dataset.commentId || "")}"] ${selector}`;
      return active.closest(".imagechat-reply") ? `.imagechat-reply ${selector}` : selector;
    }
    /** @param {string} key */
    restoreFocus(key) {
      let target = null;
      try {
        target = key ? this.node.querySelector(key) : null;
      } catch {
        target = null;
      }
      (target || this.node).focus({ preventScroll: true });
    }
    /** @param {Chat} chat @param {string} titleId @param {string} authorName */
    header(chat, titleId, authorName) {
      const widget = this.widget;
      const close = el("button", {
        type: "button",
        class: "imagechat-button imagechat-close",
        "aria-label": widget.t("close"),
        text: "×"
      });
      close.addEventListener("click", () => this.close(true));
      const top = el("div", { class: "imagechat-thread-top" }, [
        el("div", { class: "imagechat-thread-header" }, [
          el("h2", {
            id: titleId,
            class: "imagechat-thread-title",
            text: widget.t("threadLabel", { name: authorName })
          }),
          chat.resolved ? el("span", { class: "imagechat-badge", text: widget.t("resolvedBadge") }) : null,
          close
        ])
      ]);
      const actions = el("div", { class: "imagechat-thread-actions" }, [this.copyLinkButton(chat)]);
      top.append(actions);
      if (this.canModerate(chat)) {
        const resolve = el("button", {
          type: "button",
          class: "imagechat-button imagechat-resolve",
          text: chat.resolved ? widget.t("reopen") : widget.t("resolve")
        });
        resolve.addEventListener(
          "click",
          () => this.run(() => widget.bound.setResolved(chat.id, !chat.resolved, widget.identity))
        );
        const remove = confirmButton(
          "imagechat-delete-chat",
          widget.t("deleteChat"),
          widget.t("confirmDeleteChat"),
          () => this.run(() => widget.bound.deleteChat(chat.id, widget.identity))
        );
        actions.append(resolve, remove);
      }
      return top;
    }
    /**
     * @param {Comment} comment
     * @param {string | null} editDraft the edit form's text, when this comment is being edited
     * @param {boolean} readOnly whether this visitor may not write here now
     */
    commentItem(comment, editDraft, readOnly) {
      const widget = this.widget;
      const user = widget.bound.api.user;
      const mine = Boolean(
        user && comment.author && user.id === comment.author.id && !comment.pending
      );
      const own = mine && !readOnly;
      const item = el("li", {
        class: `imagechat-comment${comment.pending ? " imagechat-comment--pending" : ""}`,
        "data-comment-id": comment.id
      });
      const name = comment.author?.name || widget.t("unknownUser");
      const avatarUrl = comment.author?.avatarUrl;
      const avatar = isSafeImageUrl(avatarUrl) ? el("img", {
        class: "imagechat-avatar",
        src: avatarUrl,
        alt: "",
        loading: "lazy",
        referrerpolicy: "no-referrer"
      }) : el("span", {
        class: "imagechat-avatar",
        "aria-hidden": "true",
        text: initials(name)
      });
      if (!(avatar instanceof HTMLImageElement)) avatar.style.background = personColour(comment.author);
      item.append(
        el("div", { class: "imagechat-comment-meta" }, [
          avatar,
          el("span", { class: "imagechat-comment-author", text: name }),
          el("time", {
            class: "imagechat-comment-time",
            datetime: comment.createdAt,
            title: this.formatTime(comment.createdAt),
            text: relativeTime(comment.createdAt, widget.locale)
          }),
          comment.editedAt ? el("span", { class: "imagechat-comment-edited", text: widget.t("edited") }) : null,
          comment.pending ? el("span", { class: "imagechat-comment-edited", text: widget.t("markerPending") }) : null
        ])
      );
      if (mine && editDraft !== null) {
        item.classList.add("imagechat-comment--editing");
        item.append(this.editForm(comment, editDraft, readOnly));
        return item;
      }
      item.append(el("p", { class: "imagechat-comment-body", text: comment.body }));
      if (own) {
        const edit = el("button", {
          type: "button",
          class: "imagechat-link imagechat-edit",
          text: widget.t("edit")
        });
        edit.addEventListener("click", () => {
          this.editingCommentId = comment.id;
          this.render();
          const area = this.node.querySelector(".imagechat-comment--editing textarea");
          if (area) area.focus();
        });
        const remove = confirmButton(
          "imagechat-link imagechat-delete-comment",
          widget.t("delete"),
          widget.t("confirmDelete"),
          () => this.run(() => widget.bound.deleteComment(comment, widget.identity))
        );
        item.append(el("div", { class: "imagechat-comment-actions" }, [edit, remove]));
      }
      return item;
    }
    /** @param {Comment} comment @param {string} text @param {boolean} locked sending refused */
    editForm(comment, text, locked) {
      const widget = this.widget;
      const area = (
        /** @type {HTMLTextAreaElement} */
        el("textarea", {
          rows: "3",
          maxlength: String(MAX_COMMENT_LENGTH),
          "aria-label": widget.t("edit"),
          readonly: locked
        })
      );
      area.value = text;
      const error = errorBox();
      if (locked) error.show(widget.t("readOnlyNotice"));
      const cancel = el("button", {
        type: "button",
        class: "imagechat-button imagechat-cancel",
        text: widget.t("cancel")
      });
      const form = (
        /** @type {HTMLFormElement} */
        el("form", { class: "imagechat-edit-form", novalidate: true }, [
          area,
          error.node,
          el("div", { class: "imagechat-actions" }, [
            cancel,
            el("button", {
              type: "submit",
              class: "imagechat-button imagechat-button--primary",
              text: widget.t("save"),
              disabled: locked
            })
          ])
        ])
      );
      submitOnCtrlEnter(area, form);
      cancel.addEventListener("click", () => {
        this.editingCommentId = null;
        this.render();
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (widget.isReadOnly()) return error.show(widget.t("readOnlyNotice"));
        if (browserOffline()) return error.show(widget.t("offlineSend"));
        const invalid = widget.checkBody(area.value);
        if (invalid) return error.show(invalid);
        widget.bound.editComment(comment, area.value.trim(), widget.identity).then(
          () => {
            if (this.editingCommentId === comment.id) this.editingCommentId = null;
            this.render();
          },
          (err) => error.show(widget.errorText(err))
        );
      });
      return form;
    }
    /** @param {Chat} chat @param {string} text @param {boolean} locked sending refused */
    replyForm(chat, text, locked) {
      const widget = this.widget;
      const area = (
        /** @type {HTMLTextAreaElement} */
        el("textarea", {
          name: "comment",
          rows: "2",
          maxlength: String(MAX_COMMENT_LENGTH),
          placeholder: widget.t("replyPlaceholder"),
          "aria-label": widget.t("replyLabel"),
          disabled: chat.pending ? true : null,
          readonly: locked
        })
      );
      area.value = text;
      const error = errorBox();
      if (locked) error.show(widget.t("readOnlyNotice"));
      const form = (
        /** @type {HTMLFormElement} */
        el("form", { class: "imagechat-reply", novalidate: true }, [
          widget.needsName() ? widget.nameField() : null,
          area,
          error.node,
          el("div", { class: "imagechat-actions" }, [
            el("button", {
              type: "submit",
              class: "imagechat-button imagechat-button--primary imagechat-submit",
              text: widget.t("send"),
              disabled: chat.pending || locked
            })
          ])
        ])
      );
      submitOnCtrlEnter(area, form);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (widget.isReadOnly()) return error.show(widget.t("readOnlyNotice"));
        if (browserOffline()) return error.show(widget.t("offlineSend"));
        const invalid = widget.checkBody(area.value) || widget.takeGuestName(form);
        if (invalid) return error.show(invalid);
        const body = area.value.trim();
        area.value = "";
        widget.bound.addComment(chat.id, body, widget.identity).catch((err) => {
          if (this.chatId !== chat.id) {
            widget.showNotice(widget.errorText(err));
            return;
          }
          const current = (
            /** @type {HTMLTextAreaElement | null} */
            this.node.querySelector(".imagechat-reply textarea")
          );
          if (current && !current.value) current.value = body;
          if (!current) {
            this.returnedReply = body;
            this.render();
          }
          const box = (
            /** @type {HTMLElement | null} */
            this.node.querySelector(".imagechat-reply .imagechat-error")
          );
          if (box) showError(box, widget.errorText(err));
        });
      });
      return form;
    }
    /**
     * "Copy link": the page's address with `#imagechat=<chatId>`, which opens this thread.
     * @param {Chat} chat
     */
    copyLinkButton(chat) {
      const widget = this.widget;
      const href = widget.deepLink(chat.id);
      const link = (
        /** @type {HTMLAnchorElement} */
        el("a", {
          class: "imagechat-button imagechat-copy-link",
          href,
          text: this.copied ? widget.t("linkCopied") : widget.t("copyLink")
        })
      );
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const done = () => {
          this.copied = true;
          link.textContent = widget.t("linkCopied");
          widget.announce(widget.t("linkCopied"));
          setTimeout(() => {
            this.copied = false;
            if (link.isConnected) link.textContent = widget.t("copyLink");
          }, 2500);
        };
        const clipboard = navigator.clipboard;
        if (clipboard && typeof clipboard.writeText === "function") {
          clipboard.writeText(href).then(done, () => {
            history.replaceState(history.state, "", href);
            done();
          });
        } else {
          history.replaceState(history.state, "", href);
          done();
        }
      });
      return link;
    }
    /**
     * Runs a thread write, refusing while offline and showing failures in the thread.
     * @param {() => Promise<unknown>} write
     */
    run(write) {
      const widget = this.widget;
      if (browserOffline()) {
        this.error = widget.t("offlineSend");
        this.render();
        return;
      }
      this.error = "";
      write().catch((err) => {
        if (this.chatId) {
          this.error = widget.errorText(err);
          this.render();
        } else {
          widget.showNotice(widget.errorText(err));
        }
      });
    }
    /** @param {string} iso */
    formatTime(iso) {
      const date = new Date(iso);
      if (Number.isNaN(date.getTime())) return "";
      try {
        return date.toLocaleString(this.widget.locale, { dateStyle: "medium", timeStyle: "short" });
      } catch {
        return date.toISOString();
      }
    }
    position() {
      if (!this.isOpen || !this.chatId) return;
      const anchor = this.widget.markers.anchorOf(this.chatId);
      if (anchor) placeFloating(this.node, anchor.getBoundingClientRect());
      else if (isNarrowViewport()) placeFloating(this.node, { left: 0, top: 0, right: 0, bottom: 0 });
    }
  };

  // widget/src/widget.js
  var DEEP_LINK = /(?:^#|&)imagechat=([^&]+)/;
  var nextUid = 1;
  function resolveImage(target) {
    const node = typeof target === "string" ? document.querySelector(target) : target;
    if (node instanceof HTMLImageElement) return node;
    const img = node && node.querySelector ? node.querySelector("img") : null;
    if (!img) throw new TypeError("ImageChat: target must be an <img> or contain one");
    return (
      /** @type {HTMLImageElement} */
      img
    );
  }
  function normalizeConfig(input, img) {
    const server = normalizeServer(
      input.server || (typeof location !== "undefined" ? location.origin : "")
    );
    const pct = Number(input.chatSquarePercentage);
    const dark = input.hasDarkBackground;
    return {
      ...input,
      server,
      tenantId: String(input.tenantId || ""),
      urlId: input.urlId ? String(input.urlId) : deriveUrlId(img) || "",
      urlIdExplicit: Boolean(input.urlId),
      chatSquarePercentage: Number.isFinite(pct) && pct > 0 ? pct : 5,
      hasDarkBackground: dark === void 0 || dark === null || dark === "auto" ? "auto" : Boolean(dark),
      readonly: Boolean(input.readonly),
      hideResolved: Boolean(input.hideResolved),
      sso: input.sso || null
    };
  }
  var Widget = class {
    /**
     * @param {Element | string} target
     * @param {Partial<WidgetConfig>} config
     */
    constructor(target, config) {
      this.img = resolveImage(target);
      if (!config || !config.tenantId)
        throw new TypeError("ImageChat: config.tenantId is required");
      this.uid = nextUid++;
      this.rawConfig = { ...config };
      this.config = normalizeConfig(this.rawConfig, this.img);
      this.locale = resolveLocale(this.config.locale);
      this.hideResolved = this.config.hideResolved;
      this.lastReportedCount = -1;
      this.noticeTimer = 0;
      this.reconnectBannerTimer = 0;
      this.destroyed = false;
      this.channel = null;
      this.detachChannel = null;
      this.placing = null;
      this.deepLinkOpened = "";
      this.cleanups = [];
      ensureStylesheet(this.config);
      const dom = this.buildDom();
      this.root = dom.root;
      this.surface = dom.surface;
      this.surfaceHint = dom.surfaceHint;
      this.banner = dom.banner;
      this.notice = dom.notice;
      this.presence = dom.presence;
      this.delayed = dom.delayed;
      this.readOnlyNote = dom.readOnlyNote;
      this.pills = dom.pills;
      this.live = dom.live;
      this.darkQuery = null;
      this.lastWidth = 0;
      this.lastHeight = 0;
      this.markers = new MarkerLayer(this);
      this.thread = new ThreadView(this);
      this.composer = new ComposerView(this);
      this.pills.prepend(this.markers.toggle);
      this.surface.append(this.markers.clusterList);
      document.body.append(this.thread.node, this.composer.node);
      this.attachObservers();
      this.bindImage();
      this.applyTheme();
      this.layout();
    }
    /** @param {string} key @param {Record<string, string | number>} [params] */
    t(key, params) {
      return translate(this.locale, key, params);
    }
    /** The bound channel, for views that exist only while one is bound. */
    get bound() {
      if (!this.channel) throw new Error("imagechat: no image bound yet");
      return this.channel;
    }
    /** @returns {Identity} */
    get identity() {
      if (this.config.sso) return { sso: this.config.sso };
      return { guestName: this.channel?.api.guestName || void 0 };
    }
    // --- DOM -----------------------------------------------------------------------------------
    buildDom() {
      const root = el("div", { class: "imagechat", "data-imagechat-url-id": this.config.urlId });
      Object.assign(root.style, {
        position: "absolute",
        left: "0px",
        top: "0px",
        width: "0px",
        height: "0px"
      });
      const surface = el("div", {
        class: "imagechat-surface",
        role: "group",
        tabindex: this.isReadOnly() ? null : "0",
        "aria-label": this.t("surfaceLabel")
      });
      const surfaceHint = el("span", {
        class: "imagechat-visually-hidden",
        text: this.t("surfaceKeyboardHint")
      });
      surface.append(surfaceHint);
      const banner = el("div", { class: "imagechat-offline", role: "status", hidden: true });
      const notice = el("div", { class: "imagechat-notice", role: "alert", hidden: true });
      const presence = el("div", { class: "imagechat-presence", "aria-hidden": "true", hidden: true });
      const delayed = el("div", { class: "imagechat-delayed", role: "status", hidden: true });
      const readOnlyNote = el("div", { class: "imagechat-readonly", role: "status", hidden: true });
      const pills = el("div", { class: "imagechat-pills" }, [readOnlyNote, delayed, presence]);
      const stack = el("div", { class: "imagechat-stack" }, [notice, pills]);
      const live = el("div", { class: "imagechat-live imagechat-visually-hidden", "aria-live": "polite" });
      root.append(surface, banner, stack, live);
      this.insertionPoint().insertAdjacentElement("afterend", root);
      return {
        root,
        surface,
        surfaceHint,
        banner,
        notice,
        presence,
        delayed,
        readOnlyNote,
        pills,
        live
      };
    }
    /** After <picture> wrappers and outside links, so a click never follows the link. */
    insertionPoint() {
      let node = this.img.parentElement?.tagName === "PICTURE" ? this.img.parentElement : this.img;
      const link = node.parentElement && node.parentElement.closest("a");
      if (link) node = link;
      return node;
    }
    attachObservers() {
      const onLayout = () => this.layout();
      this.img.addEventListener("load", onLayout);
      window.addEventListener("resize", onLayout);
      this.cleanups.push(() => {
        this.img.removeEventListener("load", onLayout);
        window.removeEventListener("resize", onLayout);
      });
      if (typeof ResizeObserver === "function") {
        const resizeObserver = new ResizeObserver(onLayout);
        resizeObserver.observe(this.img);
        resizeObserver.observe(document.documentElement);
        this.cleanups.push(() => resizeObserver.disconnect());
      }
      const onScroll = () => this.positionFloating();
      document.addEventListener("scroll", onScroll, { capture: true, passive: true });
      this.cleanups.push(() => document.removeEventListener("scroll", onScroll, { capture: true }));
      this.cleanups.push(watchSource(this.img, () => this.onSourceChanged()));
      const bodyObserver = new MutationObserver(() => this.applyTheme());
      bodyObserver.observe(document.body, { attributes: true, attributeFilter: ["class"] });
      this.cleanups.push(() => bodyObserver.disconnect());
      if (typeof matchMedia === "function") {
        this.darkQuery = matchMedia("(prefers-color-scheme: dark)");
        const onScheme = () => this.applyTheme();
        this.darkQuery.addEventListener("change", onScheme);
        this.cleanups.push(() => this.darkQuery?.removeEventListener("change", onScheme));
      }
      const onHash = () => {
        this.deepLinkOpened = "";
        this.openDeepLink();
      };
      window.addEventListener("hashchange", onHash);
      this.cleanups.push(() => window.removeEventListener("hashchange", onHash));
      this.cleanups.push(
        network.listen((type) => {
          this.renderConnectionState();
          this.renderPresence();
          if (type === "online") this.thread.onOnline();
        })
      );
      this.surface.addEventListener("click", (event) => this.onSurfaceClick(event));
      this.surface.addEventListener("keydown", (event) => this.onSurfaceKey(event));
      this.root.addEventListener("keydown", (event) => this.onEscape(event));
      const onDocumentKey = (event) => {
        const active = document.activeElement;
        if (!event.defaultPrevented && (!active || active === document.body)) this.onEscape(event);
      };
      document.addEventListener("keydown", onDocumentKey);
      this.cleanups.push(() => document.removeEventListener("keydown", onDocumentKey));
    }
    // --- which image ---------------------------------------------------------------------------
    /** Binds to the image's channel, or waits for a src when it has none yet. */
    bindImage() {
      this.root.dataset.imagechatUrlId = this.config.urlId;
      if (this.config.urlId) {
        this.attachChannel();
      } else {
        this.root.dataset.state = "waiting";
        this.renderMarkers();
      }
    }
    onSourceChanged() {
      if (this.destroyed || this.config.urlIdExplicit) return;
      const urlId = deriveUrlId(this.img) || "";
      if (urlId === this.config.urlId) return;
      this.switchChannel(() => {
        this.config = { ...this.config, urlId };
      });
    }
    /** @param {() => void} change what changes between the old channel and the new one */
    switchChannel(change) {
      this.thread.close(false);
      this.composer.close(false);
      this.cancelPlacing();
      this.markers.clear();
      this.releaseChannel();
      this.lastReportedCount = -1;
      change();
      this.bindImage();
      this.layout();
    }
    attachChannel() {
      const channel = Channel.acquire(this.config.server, this.config.tenantId, this.config.urlId);
      this.channel = channel;
      if (!channel.readIdentity || this.config.sso) channel.readIdentity = this.identity;
      const detach = [
        channel.events.listen((type, detail) => this.onChannelEvent(type, detail)),
        channel.connection.events.listen(() => {
          this.renderConnectionState();
          this.renderPresence();
        }),
        // Who writes changed: a moderator's session may write where others may not.
        channel.api.changes.listen(() => this.renderReadOnly())
      ];
      this.detachChannel = () => detach.forEach((fn) => fn());
      this.renderReadOnly();
      this.renderConnectionState();
      this.renderPresence();
      this.openDeepLink();
    }
    releaseChannel() {
      if (this.detachChannel) this.detachChannel();
      this.detachChannel = null;
      if (this.channel) this.channel.release();
      this.channel = null;
    }
    applyTheme() {
      const setting = this.config.hasDarkBackground;
      const dark = setting === true || document.body.classList.contains("dark") || setting === "auto" && Boolean(this.darkQuery?.matches);
      for (const node of [this.root, this.thread.node, this.composer.node]) {
        node.classList.toggle("imagechat--dark", dark);
      }
    }
    /** Puts the overlay exactly on the drawn picture and sizes the markers. */
    layout() {
      if (this.destroyed) return;
      const box = renderedImageBox(this.img);
      this.root.style.width = `${box.width}px`;
      this.root.style.height = `${box.height}px`;
      this.root.style.visibility = box.width > 0 && box.height > 0 ? "" : "hidden";
      placeAtViewport(this.root, box.left, box.top);
      const side = this.config.chatSquarePercentage / 100 * box.width;
      this.root.style.setProperty("--imagechat-marker-size", `${side}px`);
      const { clip } = box;
      this.surface.style.clipPath = clip.top || clip.right || clip.bottom || clip.left ? `inset(${clip.top}px ${clip.right}px ${clip.bottom}px ${clip.left}px)` : "";
      if (this.channel && (box.width !== this.lastWidth || box.height !== this.lastHeight)) {
        this.lastWidth = box.width;
        this.lastHeight = box.height;
        this.markers.render();
      }
      this.positionFloating();
    }
    positionFloating() {
      this.thread.position();
      this.composer.position();
    }
    // --- channel events ------------------------------------------------------------------------
    /** @param {string} type @param {any} detail */
    onChannelEvent(type, detail) {
      switch (type) {
        case "chats":
          this.renderMarkers();
          this.thread.render();
          this.openDeepLink();
          break;
        case "thread":
          if (detail === this.thread.chatId) this.thread.render();
          break;
        case "replaced":
          this.markers.rename(detail.tempId, detail.chat.id);
          this.thread.onReplaced(detail.tempId, detail.chat);
          this.renderMarkers();
          break;
        case "deleted":
          if (detail.chatId === this.thread.chatId) {
            this.thread.close(false);
            if (detail.byOthers) this.showNotice(this.t("chatDeleted"));
          }
          break;
        case "announce":
          this.announce(
            this.t(detail.key, {
              name: detail.name || this.t("unknownUser"),
              body: detail.body || ""
            })
          );
          break;
        case "presence":
          this.renderPresence();
          break;
        case "error":
          this.showNotice(
            detail && detail.message ? String(detail.message) : this.t("genericError", { status: detail?.code ?? "" })
          );
          break;
        case "status":
          this.renderConnectionState();
          this.renderPresence();
          break;
        case "readonly":
          this.renderReadOnly();
          break;
        default:
          break;
      }
    }
    renderMarkers() {
      if (this.destroyed) return;
      this.markers.render();
    }
    reportCommentCount() {
      const callback = this.config.onCommentCountUpdated;
      if (typeof callback !== "function" || !this.channel || !this.channel.loaded) return;
      const count = this.channel.commentCount;
      if (count === this.lastReportedCount) return;
      this.lastReportedCount = count;
      try {
        callback(count);
      } catch (err) {
        console.error("imagechat: onCommentCountUpdated failed", err);
      }
    }
    /**
     * Whether this visitor may not write here: the page asked so (`readonly`), or the server
     * closed writes to all but moderators and admins.
     */
    isReadOnly() {
      return this.config.readonly || this.writesClosedByServer();
    }
    /** The server refuses this visitor's writes here: the image is locked, or the site read-only. */
    writesClosedByServer() {
      const channel = this.channel;
      if (!channel || !channel.readOnly) return false;
      const user = channel.api.user;
      return !(user ? isStaff(user) : ssoNamesStaff(this.config.sso));
    }
    /**
     * Whether the current user may move, resolve and delete this chat: its author, moderators
     * and admins (the server checks again).
     * @param {Chat} chat
     */
    canMove(chat) {
      const user = this.channel?.api.user;
      if (!user || this.isReadOnly() || chat.pending) return false;
      return user.id === chat.author?.id || isStaff(user);
    }
    /**
     * A viewport point as percentages of the picture, kept on it.
     * @param {number} clientX
     * @param {number} clientY
     * @returns {{x: number, y: number} | null}
     */
    percentAt(clientX, clientY) {
      const rect = this.surface.getBoundingClientRect();
      if (!rect.width || !rect.height) return null;
      return {
        x: clampPercent((clientX - rect.left) / rect.width * 100),
        y: clampPercent((clientY - rect.top) / rect.height * 100)
      };
    }
    /** Focus lands on the marker just posted (it is the newest pending one). */
    focusNewestPending() {
      if (!this.channel) return;
      let newest = null;
      for (const chat of this.channel.chats.values()) if (chat.pending) newest = chat;
      const button = newest ? this.markers.get(newest.id) : null;
      if (button) button.focus({ preventScroll: true });
    }
    // --- deep links ----------------------------------------------------------------------------
    /** @param {string} chatId @returns {string} this page's address, opening that thread */
    deepLink(chatId) {
      const base = location.href.split("#")[0];
      return `${base}#imagechat=${encodeURIComponent(chatId)}`;
    }
    /** Opens the thread named by `#imagechat=<chatId>` once it is among this image's chats. */
    openDeepLink() {
      if (!this.channel || !this.channel.loaded) return;
      const match = DEEP_LINK.exec(location.hash);
      if (!match) return;
      let chatId = "";
      try {
        chatId = decodeURIComponent(match[1]);
      } catch {
        return;
      }
      if (chatId === this.deepLinkOpened || !this.channel.chats.has(chatId)) return;
      this.deepLinkOpened = chatId;
      const chat = this.channel.chats.get(chatId);
      if (chat && chat.resolved && this.hideResolved) this.hideResolved = false;
      this.renderMarkers();
      this.root.scrollIntoView({ block: "center" });
      this.thread.open(chatId, this.markers.get(chatId));
    }
    // --- pointer and keyboard ------------------------------------------------------------------
    /** @param {MouseEvent} event */
    onSurfaceClick(event) {
      const target = event.target instanceof Element ? event.target : null;
      const cluster = (
        /** @type {HTMLButtonElement | null} */
        target && target.closest(".imagechat-cluster")
      );
      if (cluster) {
        if (this.markers.clusterList.hidden) this.markers.openClusterList(cluster, event.detail === 0);
        else this.markers.closeClusterList();
        return;
      }
      if (target && target.closest(".imagechat-cluster-list")) return;
      const marker = (
        /** @type {HTMLElement | null} */
        target && target.closest(".imagechat-marker")
      );
      if (marker) {
        const chatId = marker.dataset.chatId || "";
        if (this.thread.chatId === chatId) this.thread.close(true);
        else this.thread.open(chatId, marker);
        return;
      }
      if (target !== this.surface) return;
      if (this.markers.closeClusterList()) return;
      if (this.thread.isOpen) {
        this.thread.close(false);
        return;
      }
      if (this.isReadOnly() || !this.channel) return;
      this.cancelPlacing();
      const spot = this.percentAt(event.clientX, event.clientY);
      if (spot) this.composer.open(spot.x, spot.y);
    }
    /**
     * Keyboard placement: Enter on the picture shows a new marker in the middle, the arrow keys
     * move it, Enter opens the form there, Escape gives up.
     * @param {KeyboardEvent} event
     */
    onSurfaceKey(event) {
      if (event.target !== this.surface || this.isReadOnly() || !this.channel) return;
      if (this.placing) {
        const step = arrowStep(event);
        if (step) {
          event.preventDefault();
          this.placing = {
            x: clampPercent(this.placing.x + step.dx),
            y: clampPercent(this.placing.y + step.dy)
          };
          this.composer.showGhost(this.placing.x, this.placing.y);
          return;
        }
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          const { x, y } = this.placing;
          this.cancelPlacing();
          this.composer.open(x, y);
        }
        return;
      }
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.placing = { x: 50, y: 50 };
        this.composer.showGhost(50, 50);
        this.root.classList.add("imagechat--placing");
        this.announce(this.t("placing", { x: 50, y: 50 }));
      }
    }
    cancelPlacing() {
      if (!this.placing) return false;
      this.placing = null;
      this.root.classList.remove("imagechat--placing");
      if (!this.composer.isOpen) this.composer.hideGhost();
      return true;
    }
    /** @param {KeyboardEvent} event */
    onEscape(event) {
      if (event.key !== "Escape") return;
      if (this.cancelPlacing()) {
        event.preventDefault();
      } else if (this.markers.closeClusterList()) {
        event.preventDefault();
      } else if (this.composer.isOpen) {
        event.preventDefault();
        this.composer.close(true);
      } else if (this.thread.isOpen) {
        event.preventDefault();
        this.thread.close(true);
      }
    }
    // --- shared form helpers -------------------------------------------------------------------
    /** The REST access of the bound channel (forms exist only while one is bound). */
    api() {
      return this.bound.api;
    }
    /** Whether a write would first have to ask the visitor's name. */
    needsName() {
      return this.api().needsGuestName(this.identity);
    }
    /** The inline name prompt for guests, shown in the first form they use. */
    nameField() {
      const id = `imagechat-name-${uuid()}`;
      return el("div", { class: "imagechat-name" }, [
        el("label", { for: id, text: this.t("nameLabel") }),
        el("input", {
          id,
          name: "name",
          type: "text",
          maxlength: "100",
          autocomplete: "name",
          placeholder: this.t("namePlaceholder"),
          value: this.api().guestName || ""
        })
      ]);
    }
    /**
     * Reads and checks a form's name field (when shown); remembers the name for this tenant.
     * @param {HTMLElement} form
     * @returns {string | null} an error message, or null when fine
     */
    takeGuestName(form) {
      const input = (
        /** @type {HTMLInputElement | null} */
        form.querySelector("input[name=name]")
      );
      if (!input) return null;
      const name = input.value.trim();
      if (!name) {
        input.focus();
        return this.t("nameRequired");
      }
      this.api().rememberGuestName(name);
      return null;
    }
    /** @param {string} raw @returns {string | null} an error message */
    checkBody(raw) {
      const body = raw.trim();
      if (!body) return this.t("emptyComment");
      if (body.length > MAX_COMMENT_LENGTH) return this.t("tooLong", { max: MAX_COMMENT_LENGTH });
      return null;
    }
    /** @param {unknown} err */
    errorText(err) {
      if (isReadOnlyRefusal(err)) return this.t("readOnlyNotice");
      if (err instanceof ApiError) {
        if (err.code === "network") return this.t("networkError");
        if (err.code === "timeout") return this.t("timeoutError");
        if (err.code === "name_required") return this.t("nameRequired");
        if (err.message) return err.message;
        return this.t("genericError", { status: err.status || err.code });
      }
      return this.t("genericError", { status: String(err) });
    }
    // --- banners and announcements -------------------------------------------------------------
    renderConnectionState() {
      if (this.destroyed) return;
      const channel = this.channel;
      if (!channel) {
        this.root.dataset.state = "waiting";
        this.delayed.hidden = true;
        return;
      }
      const connection = channel.connection;
      const state = connection.state;
      let summary = "loading";
      if (browserOffline()) summary = "offline";
      else if (channel.live) summary = "live";
      else if (state === "closed") summary = "closed";
      else if (channel.loaded) summary = "connecting";
      this.root.dataset.state = summary;
      this.root.dataset.transport = channel.polling ? "polling" : "socket";
      const delayed = channel.polling && channel.live && !browserOffline();
      this.delayed.hidden = !delayed;
      this.delayed.textContent = delayed ? this.t("liveDelayed") : "";
      let text = "";
      if (browserOffline()) {
        text = this.t("offline");
      } else if (state === "closed") {
        text = this.t("liveUnavailable", { message: connection.fatalReason });
      } else if (!delayed && (state === "waiting" || state === "offline" || state === "connecting")) {
        if (!this.reconnectBannerTimer && this.banner.hidden) {
          this.reconnectBannerTimer = window.setTimeout(() => {
            this.reconnectBannerTimer = 0;
            const now = this.channel?.connection.state;
            if (!this.destroyed && now && now !== "open" && now !== "idle" && !this.channel?.polling) {
              this.banner.textContent = this.t("reconnecting");
              this.banner.hidden = false;
            }
          }, 1500);
        }
        return;
      }
      if (this.reconnectBannerTimer) {
        clearTimeout(this.reconnectBannerTimer);
        this.reconnectBannerTimer = 0;
      }
      this.banner.textContent = text;
      this.banner.hidden = !text;
      this.root.classList.toggle("imagechat--offline", Boolean(text));
    }
    /**
     * Follows whether this visitor may write, live: while not, new markers cannot be placed, an
     * open composer closes (or, holding typed text, keeps it and refuses to send), writing controls
     * leave the thread, and a pill says so when the server closed writes. All of it comes back when
     * writes open again.
     */
    renderReadOnly() {
      if (this.destroyed) return;
      const readOnly = this.isReadOnly();
      if (readOnly) {
        this.surface.removeAttribute("tabindex");
        this.cancelPlacing();
      } else {
        this.surface.setAttribute("tabindex", "0");
      }
      this.root.classList.toggle("imagechat--readonly", readOnly);
      this.composer.followReadOnly();
      const closed = this.writesClosedByServer();
      this.readOnlyNote.hidden = !closed;
      this.readOnlyNote.textContent = closed ? this.t("readOnlyNotice") : "";
      this.renderMarkers();
      this.thread.render();
    }
    /** "N viewing": from the server's presence, only while the socket is live. */
    renderPresence() {
      const channel = this.channel;
      const viewers = channel ? channel.viewers : 0;
      const show = Boolean(channel && channel.live && !channel.polling) && !browserOffline() && viewers > 1;
      this.presence.hidden = !show;
      this.presence.textContent = show ? this.t("viewers", { count: viewers }) : "";
    }
    /** @param {string} text */
    announce(text) {
      this.live.textContent = "";
      window.setTimeout(() => {
        if (!this.destroyed) this.live.textContent = text;
      }, 50);
    }
    /** @param {string} text */
    showNotice(text) {
      const dismiss = el("button", {
        type: "button",
        class: "imagechat-link imagechat-dismiss",
        text: this.t("dismiss")
      });
      dismiss.addEventListener("click", () => {
        this.notice.hidden = true;
      });
      setChildren(this.notice, [el("span", { text }), dismiss]);
      this.notice.hidden = false;
      clearTimeout(this.noticeTimer);
      this.noticeTimer = window.setTimeout(() => {
        this.notice.hidden = true;
      }, 8e3);
    }
    // --- public --------------------------------------------------------------------------------
    /** @param {Partial<WidgetConfig>} partial */
    update(partial) {
      if (this.destroyed) return;
      this.rawConfig = { ...this.rawConfig, ...partial };
      const before = this.config;
      const next = normalizeConfig(this.rawConfig, this.img);
      this.locale = resolveLocale(next.locale);
      if ("hideResolved" in partial) this.hideResolved = next.hideResolved;
      const channelChanged = before.server !== next.server || before.tenantId !== next.tenantId || before.urlId !== next.urlId;
      if (channelChanged) {
        this.switchChannel(() => {
          this.config = next;
        });
      } else {
        this.config = next;
      }
      if (this.config.sso && this.channel) this.channel.readIdentity = this.identity;
      this.surface.setAttribute("aria-label", this.t("surfaceLabel"));
      this.surfaceHint.textContent = this.t("surfaceKeyboardHint");
      this.applyTheme();
      this.layout();
      this.renderReadOnly();
      this.renderPresence();
      this.renderConnectionState();
    }
    destroy() {
      if (this.destroyed) return;
      this.thread.close(false);
      this.composer.close(false);
      this.destroyed = true;
      for (const cleanup of this.cleanups) cleanup();
      clearTimeout(this.noticeTimer);
      clearTimeout(this.reconnectBannerTimer);
      this.releaseChannel();
      this.root.remove();
      this.thread.node.remove();
      this.composer.node.remove();
    }
  };

  // widget/src/public.js
  function ImageChat(target, config) {
    const widget = new Widget(target, config);
    return {
      destroy: () => widget.destroy(),
      update: (partial) => widget.update(partial),
      get urlId() {
        return widget.config.urlId;
      }
    };
  }
  Object.defineProperties(ImageChat, {
    __imagechat: { value: true },
    version: { value: "2", enumerable: true },
    locales: { value: Object.freeze(Object.keys(CATALOGUES)), enumerable: true },
    /** Lets an entry point tell where the stylesheet is (script URL or import.meta.url). */
    setAssetBase: { value: setAssetBase }
  });
  function install(assetBase2) {
    const scope = (
      /** @type {any} */
      globalThis
    );
    if (!(scope.ImageChat && scope.ImageChat.__imagechat)) scope.ImageChat = ImageChat;
    const active = (
      /** @type {ImageChatFunction} */
      scope.ImageChat
    );
    if (assetBase2) active.setAssetBase(assetBase2);
    return active;
  }

  // widget/src/classic.js
  var script = typeof document !== "undefined" && document.currentScript && "src" in document.currentScript ? (
    /** @type {HTMLScriptElement} */
    document.currentScript.src
  ) : "";
  install(script ? new URL("./", script).href : "");
})();

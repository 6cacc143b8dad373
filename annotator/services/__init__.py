"""The service layer: every read and write of the database, one module per concern.

Each function takes ``(session, actor, ...)``: the acting user second (the signed-in User on
the web, permissions.SYSTEM on the command line), and is wrapped in annotator.db's ``writes``,
``reads`` or ``batch``, which check the actor's role and own the transaction. The web pages
and the command line call these and never query or commit themselves.

users        accounts, passwords, logging in
projects     projects and their codebooks; the one project lookup
assignments  who annotates which document; marking done
annotations  an annotator's spans, sentence labels and attributions
progress     how far annotators are; active time
review       every annotator's work on a document, side by side
adjudication gold standard: proposals, decisions with provenance
imports      what comes in: articles, annotations made elsewhere
exports      what goes out: document records for annotator.exporters
suggestions  stored suggestions, decisions on them, the half-blind design, the anchoring report
training     the learned suggester's models: trained, held-out figures, enabled
entities     the registry of sources, links from SOURCE spans, merge and split
profiles     what the annotations say per outlet, article, month, annotator
audit        the audit log every change appends to
paging       the page of a long listing every listing service returns
permissions  roles, and who acts
"""

"""The short paragraphs that teach, one beside each view of the Inside tab, and the tab's F1 guide."""

PANEL = (
    "<b>Inside the model.</b> Text becomes <i>tokens</i>, tokens become <i>vectors</i>, and in every "
    "layer <i>self-attention</i> lets each token weigh every other token it can see. Many heads do this "
    "side by side, and they learn different things. Type a text and press <b>Analyse</b> (Ctrl+Enter)."
)

TOKENS = (
    "<b>Tokenization.</b> The model never sees letters. A tokenizer cuts the text into pieces from a fixed "
    "vocabulary and replaces each by its id. Frequent words are one token; rare words are cut into "
    "sub-words. A model must always be used with the tokenizer it was trained with: the same ids must "
    "mean the same pieces. Hover a token to see its id."
)

ATTENTION = (
    "<b>Self-attention.</b> Each row is one token (the <i>query</i>) deciding how much to take from each "
    "earlier token (the <i>keys</i>): the weights in a row add up to 1. A decoder model only looks back "
    "(the upper triangle is empty); an encoder looks both ways. Choose a layer and a head above, or the "
    "<i>mean of heads</i>, or the <i>rollout</i>: attention followed through all layers so far. Many heads "
    "park spare attention on the first token. Encoder-decoder models add <i>cross-attention</i>: each "
    "token the decoder writes looks at the encoder's input tokens."
)

HEADS = (
    "<b>Multi-head attention.</b> A layer runs several attention heads in parallel, each with its own "
    "queries and keys, and mixes their results. Compare them: some look at the previous token (a "
    "diagonal line), some at the first token (a dark first column), some spread out over related words. "
    "Click a head to see it large."
)

LINES = (
    "<b>Who looks at whom.</b> Pick a token on the left: the lines show where its attention goes, "
    "thicker for a bigger share. The values are the same as one row of the heatmap. Try a pronoun "
    "such as 'it' in a late layer and see whether it looks at the noun it stands for."
)

LENS = (
    "<b>The logit lens.</b> After the last layer, a final norm and the <i>LM head</i> turn the hidden "
    "vector into a score for every token in the vocabulary; softmax makes them probabilities. The lens "
    "does the same with every layer's hidden vector, to see what the model 'would say' if it stopped "
    "there. Early layers guess vaguely; later ones settle. Darker means surer; bold and underlined means "
    "the guess is the token that really comes next."
)

EMBEDDINGS = (
    "<b>Embeddings.</b> Each token id picks a row of the embedding table: a vector of hundreds of "
    "numbers. Words used in similar ways end up pointing in similar directions. <i>Cosine similarity</i> "
    "measures that: 1 is the same direction, 0 unrelated. The map squeezes the vectors to 2-D (PCA), so "
    "distances there are only a rough picture."
)

MEANING = ("An encoder reads a whole sentence at once and can sum it up as one vector: here the bundled "
           "all-MiniLM-L6-v2 (encoder-only, 6 layers) averages its last layer over the tokens. Sentences "
           "that mean the same point the same way, even with no word in common — which word-overlap "
           "scores like ROUGE miss. This view always uses the bundled encoder, whatever model is loaded.")
OBJECTIVES = ("The three kinds of transformer are pre-trained differently. A decoder (SmolLM2) learns to "
              "predict each next token (causal LM: labels are the inputs shifted by one). An encoder (BERT, "
              "MiniLM) learns to fill in about 15% hidden tokens, seeing both sides (masked LM: labels only "
              "at the masks). An encoder-decoder (T5) learns to write back spans cut out of the input "
              "(span corruption with sentinels). With a decoder loaded you also see its surprise at each token.")
BOTH_KINDS = ("<b>Decoder and encoder on one sentence.</b> A decoder (SmolLM2) is trained to predict the next "
              "token, so each token may only attend to itself and earlier ones: its map is a triangle, nothing "
              "above the diagonal. An encoder (MiniLM) is trained to fill in hidden tokens, so every token "
              "attends to the whole sentence, both ways. The tokenizers differ too: byte-level BPE marks a "
              "leading space with Ġ, WordPiece marks a word's continuation with ## and adds [CLS] and [SEP]. "
              "The loaded model stands for its own kind; the bundled one stands for the other.")

GUIDE = """<h2>Inside: tokens, embeddings, attention</h2>
<p>Text becomes <b>tokens</b> (words or pieces of words); each token becomes a vector, its
<b>embedding</b>; similar words get similar vectors (cosine similarity). In <b>self-attention</b> every token
weighs every other token; <b>multi-head</b> attention does this several times in parallel, and heads learn
different patterns. The <b>logit lens</b> shows what each layer would predict if it were the last.</p>"""

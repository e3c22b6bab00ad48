namespace Dclm.Tokenizers;

/// <summary>
/// Finds added tokens (control, unknown and user-defined pieces) inside raw text so they are emitted
/// whole instead of being pre-tokenized. Matching is leftmost-longest, as Hugging Face's added
/// vocabulary does; control and unknown tokens only count when special tokens are being parsed, while
/// user-defined tokens (GPT-NeoX's runs of spaces, for example) always do. A token with
/// <see cref="AddedTokenStrip"/> flags takes the whitespace beside it along (up to the previous match).
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Node root = new();
    private readonly IReadOnlyDictionary<int, AddedTokenStrip> strips;

    public AddedTokenMatcher(IReadOnlyList<string> tokens, IReadOnlyList<TokenType> types, IReadOnlyDictionary<int, AddedTokenStrip> strips)
    {
        this.strips = strips;
        for (int id = 0; id < tokens.Count; id++)
        {
            var type = types[id];
            if (type is not (TokenType.Control or TokenType.Unknown or TokenType.UserDefined) || tokens[id].Length == 0)
            {
                continue;
            }
            var node = root;
            foreach (char character in tokens[id])
            {
                node.Children ??= [];
                if (!node.Children.TryGetValue(character, out var child))
                {
                    child = new Node();
                    node.Children[character] = child;
                }
                node = child;
            }
            // With duplicated token text the first id wins, matching the id lookup by text.
            if (type == TokenType.UserDefined)
            {
                node.AlwaysId ??= id;
            }
            else
            {
                node.SpecialId ??= id;
            }
            IsEmpty = false;
        }
    }

    public bool IsEmpty { get; } = true;

    /// <summary>
    /// Splits <paramref name="text"/> into fragments: a fragment is either a matched token id or a
    /// range of ordinary text (with <see cref="TextFragment.TokenId"/> of -1).
    /// </summary>
    public void Split(string text, bool includeSpecial, List<TextFragment> fragments)
    {
        int textStart = 0;
        int position = 0;
        while (position < text.Length)
        {
            if (TryMatchAt(text, position, includeSpecial, out int id, out int matchLength))
            {
                int start = position;
                int end = position + matchLength;
                if (strips.Count > 0 && strips.TryGetValue(id, out var strip))
                {
                    while ((strip & AddedTokenStrip.Left) != 0 && start > textStart && char.IsWhiteSpace(text[start - 1]))
                    {
                        start--;
                    }
                    while ((strip & AddedTokenStrip.Right) != 0 && end < text.Length && char.IsWhiteSpace(text[end]))
                    {
                        end++;
                    }
                }
                if (start > textStart)
                {
                    fragments.Add(new TextFragment(textStart, start - textStart, -1));
                }
                fragments.Add(new TextFragment(start, end - start, id));
                position = end;
                textStart = position;
            }
            else
            {
                position++;
            }
        }
        if (text.Length > textStart)
        {
            fragments.Add(new TextFragment(textStart, text.Length - textStart, -1));
        }
    }

    private bool TryMatchAt(string text, int position, bool includeSpecial, out int id, out int matchLength)
    {
        id = -1;
        matchLength = 0;
        var node = root;
        for (int index = position; index < text.Length; index++)
        {
            if (node.Children is null || !node.Children.TryGetValue(text[index], out var child))
            {
                break;
            }
            node = child;
            int? candidate = node.AlwaysId ?? (includeSpecial ? node.SpecialId : null);
            if (includeSpecial && node.SpecialId is int special && node.AlwaysId is int always)
            {
                candidate = Math.Min(special, always);
            }
            if (candidate is int found)
            {
                id = found;
                matchLength = index - position + 1;
            }
        }
        return id >= 0;
    }

    private sealed class Node
    {
        public Dictionary<char, Node>? Children;
        public int? AlwaysId;
        public int? SpecialId;
    }
}

/// <summary>A piece of input text: either ordinary text to tokenize or one added token.</summary>
internal readonly record struct TextFragment(int Start, int Length, int TokenId)
{
    public bool IsToken => TokenId >= 0;
}

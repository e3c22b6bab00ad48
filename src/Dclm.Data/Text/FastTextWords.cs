namespace Dclm.Data.Text;

/// <summary>
/// fastText's tokenizer as DCLM's <c>split_words(model="fasttext")</c> calls it (<c>fasttext.tokenize</c>, i.e.
/// <c>Dictionary::readWord</c>): tokens end at ASCII space, \n, \r, \t, \v, \f and NUL only (a no-break space stays
/// inside a token), and every newline is also read as a "&lt;/s&gt;" token.
/// </summary>
public static class FastTextWords
{
    /// <summary>The "&lt;/s&gt;" token fastText reads for each newline.</summary>
    public const string EndOfSentence = "</s>";

    private static bool IsSeparator(char c) => c is ' ' or '\n' or '\r' or '\t' or '\v' or '\f' or '\0';

    /// <summary>
    /// DCLM's word count for the page-length and 5%-removal rules: tokens whose first code point is alphanumeric in
    /// Python's sense ("&lt;/s&gt;" never is).
    /// </summary>
    public static int Count(ReadOnlySpan<char> text)
    {
        int count = 0;
        int i = 0;
        while (i < text.Length)
        {
            if (IsSeparator(text[i]))
            {
                i++;
                continue;
            }
            if (PythonText.IsAlnum(PythonText.At(text, i).CodePoint)) count++;
            while (i < text.Length && !IsSeparator(text[i])) i++;
        }
        return count;
    }

    /// <summary>Enumerates fastText's tokens, "&lt;/s&gt;" included.</summary>
    public ref struct Tokens(ReadOnlySpan<char> text)
    {
        private readonly ReadOnlySpan<char> _text = text;
        private int _position;

        /// <summary>The current token.</summary>
        public ReadOnlySpan<char> Current { get; private set; }

        /// <summary>Enables <c>foreach</c>.</summary>
        public readonly Tokens GetEnumerator() => this;

        /// <summary>Advances; false at the end.</summary>
        public bool MoveNext()
        {
            while (_position < _text.Length && IsSeparator(_text[_position]))
            {
                if (_text[_position++] == '\n')
                {
                    Current = EndOfSentence;
                    return true;
                }
            }
            if (_position >= _text.Length) return false;
            int start = _position;
            while (_position < _text.Length && !IsSeparator(_text[_position])) _position++;
            Current = _text[start.._position];
            return true;
        }
    }
}

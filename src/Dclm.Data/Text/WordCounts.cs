namespace Dclm.Data.Text;

/// <summary>The tokenizers of DCLM's <c>split_words</c>.</summary>
public enum WordModel
{
    /// <summary>fastText's <c>tokenize</c>: ASCII whitespace and NUL, one "&lt;/s&gt;" per newline (DCLM's default).</summary>
    FastText,
    /// <summary>Unicode word segmentation (<c>uniseg.wordbreak.words</c>): every segment, spaces and punctuation included.</summary>
    Uniseg,
    /// <summary>Python's <c>str.split()</c>.</summary>
    Split,
}

/// <summary>
/// DCLM's <c>len(split_words(text, model, ignore_punctuation, ignore_whitespace))</c>: the tokens of the model,
/// keeping those whose first code point is alphanumeric (ignore_punctuation and ignore_whitespace), alphanumeric or a
/// space (ignore_punctuation only), non-blank after Python's strip (ignore_whitespace only), or all.
/// </summary>
public static class WordCounts
{
    /// <summary>Counts the kept tokens of <paramref name="text"/>.</summary>
    public static int Count(ReadOnlySpan<char> text, WordModel model = WordModel.FastText, bool ignorePunctuation = false, bool ignoreWhitespace = true)
    {
        int count = 0;
        switch (model)
        {
            case WordModel.FastText:
                foreach (var token in new FastTextWords.Tokens(text)) if (Keep(token, ignorePunctuation, ignoreWhitespace)) count++;
                break;
            case WordModel.Uniseg:
                var segments = new WordSegmenter(text, WordBreakRules.Uniseg);
                while (segments.MoveNext()) if (Keep(segments.Current, ignorePunctuation, ignoreWhitespace)) count++;
                break;
            default:
                var words = PythonText.Split(text);
                while (words.MoveNext()) if (Keep(words.Current, ignorePunctuation, ignoreWhitespace)) count++;
                break;
        }
        return count;
    }

    /// <summary>The per-token rule of <c>split_words</c>.</summary>
    public static bool Keep(ReadOnlySpan<char> token, bool ignorePunctuation, bool ignoreWhitespace)
    {
        if (!ignorePunctuation) return !ignoreWhitespace || PythonText.Strip(token).Length > 0;
        int first = PythonText.At(token, 0).CodePoint;
        return PythonText.IsAlnum(first) || (!ignoreWhitespace && PythonText.IsSpace(first));
    }
}

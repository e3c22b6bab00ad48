using System.Text.RegularExpressions;

namespace Dclm.Tokenizers;

/// <summary>
/// A tokenizer.json <c>Split</c> with an unrecognised pattern and the "Isolated" behaviour: every match
/// and every gap between matches becomes a piece. .NET's engine classifies UTF-16 code units, so letters
/// and digits outside the Basic Multilingual Plane fall into negated classes; the common patterns avoid
/// this by using <see cref="PatternPreTokenizer"/>.
/// </summary>
internal sealed class RegexPreTokenizer : IPreTokenizer
{
    private readonly Regex regex;

    public RegexPreTokenizer(string pattern)
    {
        regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(10));
    }

    public void Split(string text, List<TextPiece> pieces)
    {
        int previousEnd = 0;
        foreach (var match in regex.EnumerateMatches(text))
        {
            if (match.Length == 0)
            {
                continue;
            }
            if (match.Index > previousEnd)
            {
                pieces.Add(new TextPiece(previousEnd, match.Index - previousEnd));
            }
            pieces.Add(new TextPiece(match.Index, match.Length));
            previousEnd = match.Index + match.Length;
        }
        if (previousEnd < text.Length)
        {
            pieces.Add(new TextPiece(previousEnd, text.Length - previousEnd));
        }
    }
}

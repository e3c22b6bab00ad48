using System.Text;
using System.Text.RegularExpressions;

namespace Dclm.Eval.Scoring;

/// <summary>
/// llm-foundry's exact-match normalisation (from the SQuAD script): underscores to spaces, lower case,
/// punctuation to spaces, articles (a, an, the) removed, whitespace collapsed.
/// </summary>
public static partial class AnswerNormalizer
{
    private const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~‘’´`";

    /// <summary>The normalised form of <paramref name="answer"/>.</summary>
    public static string Normalize(string answer)
    {
        var text = new StringBuilder(answer.Replace('_', ' ').ToLowerInvariant());
        for (int i = 0; i < text.Length; i++) if (Punctuation.Contains(text[i])) text[i] = ' ';
        string withoutArticles = Articles().Replace(text.ToString(), " ");
        return string.Join(' ', withoutArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Trim();
    }

    /// <summary>Correct when the (normalised) output starts with any (normalised) answer, as llm-foundry scores generation.</summary>
    public static bool Matches(string output, IEnumerable<string> answers, bool normalize)
    {
        string cleaned = normalize ? Normalize(output) : output;
        return answers.Any(a => cleaned.StartsWith(normalize ? Normalize(a) : a, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();
}

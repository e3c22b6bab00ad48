using Dclm.Data.Text;

namespace Dclm.Data.Urls;

/// <summary>
/// What the regular expression that retrie's <c>Blacklist</c> compiles from a word list finds with
/// <c>findall</c>: scanning left to right, at each position the longest listed word that starts there (with
/// <c>match_substrings=False</c>: the longest whose both ends are Python <c>\b</c> word boundaries), then on after it.
/// Words are literal (retrie escapes them); with <paramref name="ignoreCase"/> characters compare as Python's
/// IGNORECASE does for them (simple lowercase, plus ſ/s and ı/i).
/// </summary>
public sealed class LiteralTrie(IEnumerable<string> words, bool ignoreCase)
{
    private sealed class Node
    {
        public readonly Dictionary<char, Node> Next = new();
        public bool IsWord;
    }

    private readonly Node _root = Build(words, ignoreCase);

    private static Node Build(IEnumerable<string> words, bool ignoreCase)
    {
        var root = new Node();
        foreach (var word in words)
        {
            if (word.Length == 0) continue;
            var node = root;
            foreach (char c in word)
            {
                char key = ignoreCase ? Fold(c) : c;
                if (!node.Next.TryGetValue(key, out var next)) node.Next[key] = next = new Node();
                node = next;
            }
            node.IsWord = true;
        }
        return root;
    }

    private static char Fold(char c) => c switch { 'ſ' => 's', 'ı' => 'i', _ => char.ToLowerInvariant(c) };

    /// <summary>Python's <c>\w</c>: alphanumeric or underscore.</summary>
    public static bool IsWordCharacter(ReadOnlySpan<char> text, int index) =>
        index >= 0 && index < text.Length && (text[index] == '_' || PythonText.IsAlnum(CodePointAt(text, index)));

    private static int CodePointAt(ReadOnlySpan<char> text, int index)
    {
        char c = text[index];
        if (char.IsLowSurrogate(c) && index > 0 && char.IsHighSurrogate(text[index - 1])) return char.ConvertToUtf32(text[index - 1], c);
        return PythonText.At(text, index).CodePoint;
    }

    private static bool IsBoundary(ReadOnlySpan<char> text, int index) => IsWordCharacter(text, index - 1) != IsWordCharacter(text, index);

    /// <summary>The distinct words <c>findall</c> returns for <paramref name="text"/>, as they appear in it.</summary>
    public HashSet<string> FindAll(ReadOnlySpan<char> text, bool wordBoundaries, bool ignoreCase)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        int position = 0;
        while (position < text.Length)
        {
            int end = LongestMatch(text, position, wordBoundaries, ignoreCase);
            if (end < 0)
            {
                position++;
                continue;
            }
            found.Add(text[position..end].ToString());
            position = end;
        }
        return found;
    }

    /// <summary>True when some listed word starts <paramref name="text"/> at <paramref name="start"/> (regex <c>match</c>, no boundaries).</summary>
    public bool StartsAt(ReadOnlySpan<char> text, int start, bool ignoreCase) => LongestMatch(text, start, wordBoundaries: false, ignoreCase) >= 0;

    /// <summary>Ends of every listed word that starts at <paramref name="start"/>, shortest first.</summary>
    public void MatchEnds(ReadOnlySpan<char> text, int start, bool ignoreCase, List<int> ends)
    {
        ends.Clear();
        var node = _root;
        for (int i = start; i < text.Length; i++)
        {
            if (!node.Next.TryGetValue(ignoreCase ? Fold(text[i]) : text[i], out node)) return;
            if (node.IsWord) ends.Add(i + 1);
        }
    }

    private int LongestMatch(ReadOnlySpan<char> text, int start, bool wordBoundaries, bool ignoreCase)
    {
        if (wordBoundaries && !IsBoundary(text, start)) return -1;
        int best = -1;
        var node = _root;
        for (int i = start; i < text.Length; i++)
        {
            if (!node.Next.TryGetValue(ignoreCase ? Fold(text[i]) : text[i], out node)) break;
            if (node.IsWord && (!wordBoundaries || IsBoundary(text, i + 1))) best = i + 1;
        }
        return best;
    }
}

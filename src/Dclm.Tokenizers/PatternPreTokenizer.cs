using System.Globalization;
using System.Text;

namespace Dclm.Tokenizers;

/// <summary>
/// Hand-written matchers for the GPT-2, Llama 3 and Qwen 2 split patterns. They work on Unicode code
/// points, as the Oniguruma engine behind Hugging Face tokenizers does; .NET's Regex sees UTF-16 code
/// units, so a letter outside the Basic Multilingual Plane (𝐀, CJK extension B) would not count as
/// <c>\p{L}</c> there. Each matcher follows the pattern's alternatives in order at each position,
/// which is exactly leftmost-first regex semantics; every code point is covered by some alternative,
/// so the pieces tile the text.
/// </summary>
internal sealed class PatternPreTokenizer : IPreTokenizer
{
    private enum CharacterClass : byte { Letter, Number, Space, Other }

    private readonly PreTokenizerKind kind;

    public PatternPreTokenizer(PreTokenizerKind kind)
    {
        if (kind is not (PreTokenizerKind.Gpt2 or PreTokenizerKind.Llama3 or PreTokenizerKind.Qwen2))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only the GPT-2, Llama 3 and Qwen 2 patterns are hand-written.");
        }
        this.kind = kind;
    }

    public void Split(string text, List<TextPiece> pieces)
    {
        var points = CodePoints.Decompose(text);
        int position = 0;
        while (position < points.Count)
        {
            int end = kind == PreTokenizerKind.Gpt2
                ? MatchGpt2(points, position)
                : MatchLlama3(points, position, kind == PreTokenizerKind.Llama3 ? 3 : 1);
            int start = points.CharacterIndex[position];
            pieces.Add(new TextPiece(start, points.CharacterIndex[end] - start));
            position = end;
        }
    }

    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    private static int MatchGpt2(CodePoints points, int position)
    {
        int contraction = MatchContraction(points, position, ignoreCase: false);
        if (contraction > 0)
        {
            return position + contraction;
        }
        var classes = points.Class;
        int count = points.Count;
        if (points.Value[position] == ' ' && position + 1 < count && classes[position + 1] != CharacterClass.Space)
        {
            return RunEnd(points, position + 1, classes[position + 1]);
        }
        if (classes[position] != CharacterClass.Space)
        {
            return RunEnd(points, position, classes[position]);
        }
        return MatchTrailingSpace(points, position);
    }

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    // (Qwen 2 uses \p{N} instead of \p{N}{1,3}, so maximumDigits is 1 there.)
    private static int MatchLlama3(CodePoints points, int position, int maximumDigits)
    {
        int contraction = MatchContraction(points, position, ignoreCase: true);
        if (contraction > 0)
        {
            return position + contraction;
        }
        var classes = points.Class;
        var values = points.Value;
        int count = points.Count;
        var current = classes[position];
        if (current == CharacterClass.Letter)
        {
            return RunEnd(points, position, CharacterClass.Letter);
        }
        if (current != CharacterClass.Number && !IsLineBreak(values[position])
            && position + 1 < count && classes[position + 1] == CharacterClass.Letter)
        {
            return RunEnd(points, position + 1, CharacterClass.Letter);
        }
        if (current == CharacterClass.Number)
        {
            int end = position;
            while (end < count && end - position < maximumDigits && classes[end] == CharacterClass.Number)
            {
                end++;
            }
            return end;
        }
        int symbolStart = values[position] == ' ' && position + 1 < count && classes[position + 1] == CharacterClass.Other
            ? position + 1
            : position;
        if (classes[symbolStart] == CharacterClass.Other)
        {
            int end = RunEnd(points, symbolStart, CharacterClass.Other);
            while (end < count && IsLineBreak(values[end]))
            {
                end++;
            }
            return end;
        }
        // Only whitespace remains. \s*[\r\n]+ wins whenever the run holds a line break: the
        // greedy \s* backs off to the last break in the run.
        int spaceEnd = RunEnd(points, position, CharacterClass.Space);
        for (int index = spaceEnd - 1; index >= position; index--)
        {
            if (IsLineBreak(values[index]))
            {
                return index + 1;
            }
        }
        return MatchTrailingSpace(points, position);
    }

    // \s+(?!\S)|\s+ : a whitespace run gives up its last character to the following word, unless the
    // run is a single character or reaches the end of the text.
    private static int MatchTrailingSpace(CodePoints points, int position)
    {
        int end = RunEnd(points, position, CharacterClass.Space);
        if (end == points.Count || end - position == 1)
        {
            return end;
        }
        return end - 1;
    }

    private static int MatchContraction(CodePoints points, int position, bool ignoreCase)
    {
        var values = points.Value;
        if (values[position] != '\'' || position + 1 >= points.Count)
        {
            return 0;
        }
        int first = Fold(values[position + 1], ignoreCase);
        if (first is 's' or 't' or 'm' or 'd')
        {
            return 2;
        }
        if (position + 2 >= points.Count)
        {
            return 0;
        }
        int second = Fold(values[position + 2], ignoreCase);
        bool matched = (first == 'r' && second == 'e') || (first == 'v' && second == 'e') || (first == 'l' && second == 'l');
        return matched ? 3 : 0;
    }

    private static int Fold(int value, bool ignoreCase)
    {
        if (!ignoreCase)
        {
            return value;
        }
        if (value is >= 'A' and <= 'Z')
        {
            return value + ('a' - 'A');
        }
        // Unicode simple case folding maps LATIN SMALL LETTER LONG S to 's'; the regex engines agree.
        return value == 0x017F ? 's' : value;
    }

    private static bool IsLineBreak(int value) => value is '\r' or '\n';

    private static int RunEnd(CodePoints points, int position, CharacterClass runClass)
    {
        var classes = points.Class;
        int end = position;
        while (end < points.Count && classes[end] == runClass)
        {
            end++;
        }
        return end;
    }

    /// <summary>A text decoded into code points with their classes and character offsets.</summary>
    private sealed class CodePoints
    {
        public int Count;
        public int[] Value = [];
        public CharacterClass[] Class = [];
        /// <summary>Character index of each code point, plus one entry past the end (the text length).</summary>
        public int[] CharacterIndex = [];

        public static CodePoints Decompose(string text)
        {
            var result = new CodePoints
            {
                Value = new int[text.Length],
                Class = new CharacterClass[text.Length],
                CharacterIndex = new int[text.Length + 1],
            };
            int count = 0;
            int index = 0;
            while (index < text.Length)
            {
                // A lone surrogate decodes as U+FFFD, of class Other, as a UTF-8 round trip would make it.
                Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out int width);
                result.Value[count] = rune.Value;
                result.Class[count] = Classify(rune);
                result.CharacterIndex[count] = index;
                count++;
                index += width;
            }
            result.CharacterIndex[count] = text.Length;
            result.Count = count;
            return result;
        }

        private static CharacterClass Classify(Rune rune)
        {
            if (rune.Value < 128)
            {
                int value = rune.Value;
                if (value is >= 'a' and <= 'z' or >= 'A' and <= 'Z')
                {
                    return CharacterClass.Letter;
                }
                if (value is >= '0' and <= '9')
                {
                    return CharacterClass.Number;
                }
                return value is ' ' or (>= '\t' and <= '\r') ? CharacterClass.Space : CharacterClass.Other;
            }
            if (Rune.IsWhiteSpace(rune))
            {
                return CharacterClass.Space;
            }
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.UppercaseLetter:
                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.TitlecaseLetter:
                case UnicodeCategory.ModifierLetter:
                case UnicodeCategory.OtherLetter:
                    return CharacterClass.Letter;
                case UnicodeCategory.DecimalDigitNumber:
                case UnicodeCategory.LetterNumber:
                case UnicodeCategory.OtherNumber:
                    return CharacterClass.Number;
                default:
                    return CharacterClass.Other;
            }
        }
    }
}

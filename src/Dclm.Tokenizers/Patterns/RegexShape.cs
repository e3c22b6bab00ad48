namespace Dclm.Tokenizers.Patterns;

/// <summary>
/// The structure of a .NET regular expression that decides how it may be run on untrusted text: whether it
/// looks at text before the match (so it cannot be matched on a slice), and whether a backtracking engine
/// could take exponential or high-polynomial time on it. The pattern must already compile; this reads only
/// its structure (groups, alternations, quantifiers, lookarounds, backreferences), not its characters.
/// </summary>
/// <remarks>
/// Backtracking hazards found (each refused, with the fragment named):
/// a repeated group holding another variable repetition, an alternation or a lookaround (<c>(a+)+</c>,
/// <c>(a|aa)*</c>, <c>((a*)*)*</c>: exponentially many ways to split a run); backreferences, conditionals
/// and balancing groups (no engine bounds them); and more than <see cref="MaximumDegree"/> long repetitions
/// that can follow each other in one match (<c>a*a*a*b</c> is O(n³) per starting position).
/// </remarks>
internal sealed class RegexShape
{
    /// <summary>Most long repetitions one match may pass through in sequence (real split patterns have two: <c> ?[^\s\p{L}]+[\r\n]*</c>).</summary>
    public const int MaximumDegree = 2;

    /// <summary>Deepest group nesting read; deeper patterns are refused rather than recursed into.</summary>
    public const int MaximumNesting = 64;

    /// <summary>A repetition allowing more than this many copies counts as long.</summary>
    private const int LongRepetition = 16;

    private enum Kind : byte { Atom, Sequence, Alternation, Group, Lookahead, Lookbehind, Repeat, Backreference, Conditional, BalancingGroup }

    private sealed class Node(Kind kind, int start)
    {
        public readonly Kind Kind = kind;
        public readonly int Start = start;
        public int End;
        public readonly List<Node> Children = [];
        public int Minimum, Maximum; // Repeat
    }

    private RegexShape(bool looksBehind, string? hazard)
    {
        LooksBehind = looksBehind;
        BacktrackingHazard = hazard;
    }

    /// <summary>
    /// True when a match depends on text before it (<c>^</c>, <c>\b</c>, <c>\B</c>, <c>\A</c>, <c>\G</c> or a
    /// lookbehind), so matching a slice that starts at the current position could differ from matching the
    /// whole text.
    /// </summary>
    public bool LooksBehind { get; }

    /// <summary>Why a backtracking engine could take exponential or high-polynomial time, or null when it cannot.</summary>
    public string? BacktrackingHazard { get; }

    /// <summary>Reads <paramref name="pattern"/>, which must compile as a .NET regular expression.</summary>
    public static RegexShape Read(string pattern)
    {
        var reader = new Reader(pattern);
        Node root;
        try
        {
            root = reader.ReadAlternation(0);
        }
        catch (NestingException)
        {
            return new RegexShape(true, $"it nests groups more than {MaximumNesting} deep");
        }
        string? hazard = reader.Unsupported ?? FindHazard(pattern, root);
        if (hazard is null)
        {
            int degree = Degree(root);
            if (degree > MaximumDegree)
            {
                hazard = $"one match can pass through {degree} long repetitions in a row, which backtracking can take O(n^{degree}) time on (at most {MaximumDegree} are allowed)";
            }
        }
        return new RegexShape(reader.LooksBehind, hazard);
    }

    private static string? FindHazard(string pattern, Node node)
    {
        switch (node.Kind)
        {
            case Kind.Backreference:
                return $"it uses the backreference '{Fragment(pattern, node)}', which no engine can match in bounded time";
            case Kind.Conditional:
                return $"it uses the conditional '{Fragment(pattern, node)}'";
            case Kind.BalancingGroup:
                return $"it uses the balancing group '{Fragment(pattern, node)}'";
            case Kind.Repeat when node.Maximum > 1:
                string? inner = VariablePart(node.Children[0]);
                if (inner is not null)
                {
                    return $"'{Fragment(pattern, node)}' repeats a group that holds {inner}, which backtracking can take exponential time on";
                }
                break;
        }
        foreach (var child in node.Children)
        {
            if (FindHazard(pattern, child) is string hazard)
            {
                return hazard;
            }
        }
        return null;
    }

    // What inside a repeated group lets one run of text be split between copies in more than one way.
    private static string? VariablePart(Node node) => node.Kind switch
    {
        Kind.Repeat when node.Minimum != node.Maximum => "another repetition",
        Kind.Alternation => "a choice",
        Kind.Lookahead or Kind.Lookbehind => "a lookaround",
        _ => node.Children.Select(VariablePart).FirstOrDefault(part => part is not null),
    };

    private static int Degree(Node node) => node.Kind switch
    {
        Kind.Atom or Kind.Backreference => 0,
        Kind.Sequence => node.Children.Sum(Degree),
        Kind.Alternation or Kind.Conditional => node.Children.Count == 0 ? 0 : node.Children.Max(Degree),
        Kind.Repeat => Degree(node.Children[0]) + (node.Maximum > LongRepetition ? 1 : 0),
        _ => node.Children.Count == 0 ? 0 : node.Children.Sum(Degree),
    };

    private static string Fragment(string pattern, Node node)
    {
        string text = pattern[node.Start..Math.Max(node.Start, node.End)];
        return text.Length <= 40 ? text : text[..40] + "…";
    }

    private sealed class NestingException : Exception;

    /// <summary>A recursive-descent reader of .NET regex syntax, lenient because .NET has already validated it.</summary>
    private sealed class Reader(string pattern)
    {
        private int position;

        public bool LooksBehind { get; private set; }

        public string? Unsupported { get; private set; }

        public Node ReadAlternation(int depth)
        {
            if (depth > MaximumNesting)
            {
                throw new NestingException();
            }
            var alternation = new Node(Kind.Alternation, position);
            while (true)
            {
                alternation.Children.Add(ReadSequence(depth));
                if (position < pattern.Length && pattern[position] == '|')
                {
                    position++;
                    continue;
                }
                break;
            }
            alternation.End = position;
            return alternation.Children.Count == 1 ? alternation.Children[0] : alternation;
        }

        private Node ReadSequence(int depth)
        {
            var sequence = new Node(Kind.Sequence, position);
            while (position < pattern.Length && pattern[position] is not ('|' or ')'))
            {
                Node? atom = ReadAtom(depth);
                if (atom is null)
                {
                    continue;
                }
                sequence.Children.Add(ReadQuantifiers(atom));
            }
            sequence.End = position;
            return sequence;
        }

        private Node ReadQuantifiers(Node atom)
        {
            while (position < pattern.Length)
            {
                int minimum, maximum;
                char c = pattern[position];
                if (c is '*' or '+' or '?')
                {
                    (minimum, maximum) = c switch { '*' => (0, int.MaxValue), '+' => (1, int.MaxValue), _ => (0, 1) };
                    position++;
                }
                else if (c == '{' && TryReadBraces(out minimum, out maximum))
                {
                }
                else
                {
                    break;
                }
                if (position < pattern.Length && pattern[position] == '?')
                {
                    position++; // lazy: the same structure
                }
                var repeat = new Node(Kind.Repeat, atom.Start) { Minimum = minimum, Maximum = maximum };
                repeat.Children.Add(atom);
                repeat.End = position;
                atom = repeat;
            }
            return atom;
        }

        // {n}, {n,} or {n,m}; anything else is a literal brace.
        private bool TryReadBraces(out int minimum, out int maximum)
        {
            minimum = maximum = 0;
            int index = position + 1;
            int digits = index;
            while (index < pattern.Length && char.IsAsciiDigit(pattern[index])) index++;
            if (index == digits) return false;
            minimum = Number(pattern[digits..index]);
            maximum = minimum;
            if (index < pattern.Length && pattern[index] == ',')
            {
                index++;
                int upper = index;
                while (index < pattern.Length && char.IsAsciiDigit(pattern[index])) index++;
                maximum = index == upper ? int.MaxValue : Number(pattern[upper..index]);
            }
            if (index >= pattern.Length || pattern[index] != '}') return false;
            position = index + 1;
            return true;
        }

        private static int Number(string digits) => int.TryParse(digits, out int value) ? value : int.MaxValue;

        private Node? ReadAtom(int depth)
        {
            int start = position;
            char c = pattern[position];
            switch (c)
            {
                case '(':
                    return ReadGroup(depth);
                case '[':
                    SkipClass();
                    break;
                case '\\':
                    return ReadEscape();
                case '^':
                    LooksBehind = true;
                    position++;
                    break;
                default:
                    position++;
                    break;
            }
            return new Node(Kind.Atom, start) { End = position };
        }

        private Node? ReadGroup(int depth)
        {
            int start = position;
            position++; // (
            var kind = Kind.Group;
            if (At('?'))
            {
                char next = position + 1 < pattern.Length ? pattern[position + 1] : '\0';
                switch (next)
                {
                    case ':' or '>':
                        position += 2;
                        break;
                    case '=' or '!':
                        kind = Kind.Lookahead;
                        position += 2;
                        break;
                    case '<' when position + 2 < pattern.Length && pattern[position + 2] is '=' or '!':
                        kind = Kind.Lookbehind;
                        LooksBehind = true;
                        position += 3;
                        break;
                    case '<' or '\'':
                        char close = next == '<' ? '>' : '\'';
                        int end = pattern.IndexOf(close, position + 2);
                        end = end < 0 ? pattern.Length - 1 : end;
                        if (pattern.AsSpan(position + 2, end - position - 2).Contains('-'))
                        {
                            kind = Kind.BalancingGroup;
                        }
                        position = end + 1;
                        break;
                    case '#':
                        int comment = pattern.IndexOf(')', position);
                        position = comment < 0 ? pattern.Length : comment + 1;
                        return null;
                    case '(':
                        kind = Kind.Conditional;
                        position += 1; // the condition is read as the group's first part
                        break;
                    default:
                        // Inline options: (?imnsx-imnsx) for the rest of the group, or (?imnsx-imnsx:...) as a group.
                        int index = position + 1;
                        while (index < pattern.Length && pattern[index] is not (':' or ')')) index++;
                        string options = pattern[(position + 1)..index];
                        int minus = options.IndexOf('-');
                        if ((minus < 0 ? options : options[..minus]).Contains('x'))
                        {
                            Unsupported = "it turns on the x option (pattern whitespace and comments), which this check does not read";
                        }
                        position = index + 1;
                        if (index < pattern.Length && pattern[index] == ')')
                        {
                            return null;
                        }
                        break;
                }
            }
            var group = new Node(kind, start);
            group.Children.Add(ReadAlternation(depth + 1));
            if (At(')'))
            {
                position++;
            }
            group.End = position;
            return group;
        }

        private Node ReadEscape()
        {
            int start = position;
            position++; // backslash
            if (position >= pattern.Length)
            {
                return new Node(Kind.Atom, start) { End = position };
            }
            char c = pattern[position++];
            var kind = Kind.Atom;
            switch (c)
            {
                case 'p' or 'P' when At('{'):
                    SkipPast('}');
                    break;
                case >= '1' and <= '9':
                    kind = Kind.Backreference;
                    while (position < pattern.Length && char.IsAsciiDigit(pattern[position])) position++;
                    break;
                case 'k' when position < pattern.Length && pattern[position] is '<' or '\'' or '{':
                    kind = Kind.Backreference;
                    SkipPast(pattern[position] switch { '<' => '>', '{' => '}', _ => '\'' }, from: position + 1);
                    break;
                case 'b' or 'B' or 'A' or 'G':
                    LooksBehind = true;
                    break;
                case 'x':
                    position = Math.Min(pattern.Length, position + 2);
                    break;
                case 'u':
                    position = Math.Min(pattern.Length, position + 4);
                    break;
                case 'c':
                    position = Math.Min(pattern.Length, position + 1);
                    break;
            }
            return new Node(kind, start) { End = position };
        }

        // A character class, with escapes, a literal ']' first, and nested subtraction ([a-z-[aeiou]]).
        private void SkipClass()
        {
            position++; // [
            if (At('^')) position++;
            if (At(']')) position++;
            while (position < pattern.Length)
            {
                char c = pattern[position];
                if (c == '\\')
                {
                    position += 2;
                    if (position <= pattern.Length && pattern[position - 1] is 'p' or 'P' && At('{'))
                    {
                        SkipPast('}');
                    }
                }
                else if (c == '[' && pattern[position - 1] == '-')
                {
                    SkipClass();
                }
                else if (c == ']')
                {
                    position++;
                    return;
                }
                else
                {
                    position++;
                }
            }
        }

        private void SkipPast(char close, int? from = null)
        {
            int end = pattern.IndexOf(close, from ?? position);
            position = end < 0 ? pattern.Length : end + 1;
        }

        private bool At(char c) => position < pattern.Length && pattern[position] == c;
    }
}

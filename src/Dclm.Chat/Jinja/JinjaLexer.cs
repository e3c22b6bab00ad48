namespace Dclm.Chat.Jinja;

/// <summary>A piece of template source: text, an output tag's expression or a statement tag's content.</summary>
internal readonly record struct TemplatePiece(char Kind, string Source);

/// <summary>
/// Splits a template into text and tags the way Hugging Face's chat-template environment does: Jinja2 with
/// trim_blocks and lstrip_blocks, '-' whitespace control, and the template's one trailing newline dropped.
/// </summary>
internal static partial class JinjaLexer
{
    [System.Text.RegularExpressions.GeneratedRegex(@"\{%([-+]?)\s*endraw\s*([-+]?)%\}")]
    private static partial System.Text.RegularExpressions.Regex EndRaw();

    public static List<TemplatePiece> Split(string template)
    {
        if (template.EndsWith('\n')) template = template[..^(template.EndsWith("\r\n") ? 2 : 1)];
        var pieces = new List<TemplatePiece>();
        int position = 0;
        while (position < template.Length)
        {
            int open = FindTag(template, position);
            string text = template[position..(open < 0 ? template.Length : open)];
            if (open < 0) { pieces.Add(new('t', text)); break; }
            char kind = template[open + 1];
            int inner = open + 2;
            char control = inner < template.Length ? template[inner] : '\0';
            if (control == '-') text = text.TrimEnd();
            else if (kind != '{' && control != '+') text = StripLineIndent(text, startsLine: position == 0 || template[position - 1] == '\n');
            if (control is '-' or '+') inner++;
            if (text.Length > 0) pieces.Add(new('t', text));
            int close = FindClose(template, inner, kind);
            if (close < 0) throw new JinjaException($"a tag opened at offset {open} is never closed");
            int innerEnd = close;
            bool trimAfter = close > inner && template[close - 1] == '-';
            // '+%}' keeps the newline that trim_blocks would remove.
            bool keepNewline = kind != '{' && close > inner && template[close - 1] == '+';
            if (trimAfter || keepNewline) innerEnd--;
            string source = template[inner..innerEnd].Trim();
            position = close + 2;
            if (kind == '%' && source == "raw")
            {
                // {% raw %}: everything up to {% endraw %} is text; trim_blocks does not apply after the opening tag.
                if (trimAfter) while (position < template.Length && char.IsWhiteSpace(template[position])) position++;
                var end = EndRaw().Match(template, position);
                if (!end.Success) throw new JinjaException("missing '{% endraw %}'");
                string raw = template[position..end.Index];
                raw = end.Groups[1].Value == "-" ? raw.TrimEnd() : end.Groups[1].Value == "+" ? raw : StripLineIndent(raw, startsLine: position == 0 || template[position - 1] == '\n');
                if (raw.Length > 0) pieces.Add(new('t', raw));
                position = end.Index + end.Length;
                trimAfter = end.Groups[2].Value == "-";
                keepNewline = end.Groups[2].Value == "+";
            }
            else if (kind == '{') pieces.Add(new('o', source));
            else if (kind == '%') pieces.Add(new('s', source));
            if (trimAfter) while (position < template.Length && char.IsWhiteSpace(template[position])) position++;
            else if (kind != '{' && !keepNewline)
            {
                if (position < template.Length && template[position] == '\n') position++;
                else if (position + 1 < template.Length && template[position] == '\r' && template[position + 1] == '\n') position += 2;
            }
        }
        return pieces;
    }

    private static int FindTag(string template, int from)
    {
        for (int i = template.IndexOf('{', from); i >= 0 && i + 1 < template.Length; i = template.IndexOf('{', i + 1))
            if (template[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    private static int FindClose(string template, int from, char kind)
    {
        char closer = kind switch { '{' => '}', '%' => '%', _ => '#' };
        char quote = '\0';
        // As Jinja2's lexer: inside open brackets "}}" is two closing braces, not the end of the tag.
        int depth = 0;
        for (int i = from; i + 1 < template.Length; i++)
        {
            char c = template[i];
            if (kind != '#' && quote != '\0')
            {
                if (c == '\\') i++;
                else if (c == quote) quote = '\0';
                continue;
            }
            if (kind != '#' && c is '\'' or '"') { quote = c; continue; }
            if (depth == 0 && c == closer && template[i + 1] == '}') return i;
            if (kind == '#') continue;
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}' && depth > 0) depth--;
        }
        return -1;
    }

    /// <summary>lstrip_blocks: spaces and tabs between the start of a line and a block tag are dropped.</summary>
    private static string StripLineIndent(string text, bool startsLine)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !startsLine) return text;
        for (int i = lineStart; i < text.Length; i++)
            if (text[i] is not (' ' or '\t')) return text;
        return text[..lineStart];
    }
}

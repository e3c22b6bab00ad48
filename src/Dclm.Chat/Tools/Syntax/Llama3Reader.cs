using System.Text;

namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// Llama 3.1 to 3.3: the whole reply is one <c>{"name": …, "parameters": {…}}</c> object (<c>"arguments"</c> is read too),
/// after an optional <c>&lt;|python_tag|&gt;</c>; or, for the built-in tools, <c>&lt;|python_tag|&gt;brave_search.call(query="…")</c>
/// with <c>key=value</c> arguments whose values are JSON.
/// </summary>
internal sealed class Llama3Reader : CallReader
{
    private const string PythonTag = "<|python_tag|>";

    public override (Opening Opening, int Skip) Open(string text)
    {
        string start = text.TrimStart();
        if (start.Length == 0 || Partial(start, PythonTag)) return (Opening.Undecided, 0);
        return start.StartsWith(PythonTag, StringComparison.Ordinal) || start[0] == '{' ? (Opening.Calls, 0) : (Opening.Text, 0);
    }

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        string body = section.Trim();
        if (body.StartsWith(PythonTag, StringComparison.Ordinal)) body = body[PythonTag.Length..].TrimStart();
        if (body.StartsWith('{'))
        {
            if (ReadJson(body, 0) is not { } json) return null;
            using (json.Value)
            {
                if (json.End != body.Length) return null;
                return Call(json.Value.RootElement, "name", "parameters", "arguments") is { } call ? ([call], "") : null;
            }
        }
        return BuiltIn(body) is { } builtIn ? ([builtIn], "") : null;
    }

    /// <summary><c>name.call(key=value, …)</c>, each value JSON: the arguments become <c>{"key": value, …}</c>.</summary>
    private static WrittenCall? BuiltIn(string body)
    {
        int dot = body.IndexOf(".call(", StringComparison.Ordinal);
        if (dot <= 0 || !ToolDefinition.IsValidName(body[..dot]) || !body.EndsWith(')')) return null;
        var arguments = new StringBuilder("{");
        int at = dot + ".call(".Length;
        while (true)
        {
            at = SkipSpace(body, at);
            if (at >= body.Length) return null;
            if (body[at] == ')') break;
            int key = at;
            while (at < body.Length && (char.IsAsciiLetterOrDigit(body[at]) || body[at] == '_')) at++;
            if (at == key || at >= body.Length || body[at] != '=') return null;
            int end = JsonValueEnd(body, at + 1);
            if (end < 0) return null;
            if (arguments.Length > 1) arguments.Append(", ");
            arguments.Append('"').Append(body, key, at - key).Append("\": ").Append(body.AsSpan(at + 1, end - at - 1).Trim());
            at = SkipSpace(body, end);
            if (at < body.Length && body[at] == ',') at++;
            else if (at >= body.Length || body[at] != ')') return null;
        }
        if (at != body.Length - 1) return null;
        return new WrittenCall(body[..dot], arguments.Append('}').ToString());
    }
}

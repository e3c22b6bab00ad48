using System.Text;
using System.Text.Json;

namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// Functionary v3.2: the prompt ends with <c>&gt;&gt;&gt;</c>, and the reply names its recipient on its first line: <c>all</c> then
/// the answer's text, or a function's name then its JSON arguments; further <c>&gt;&gt;&gt;name\n{…}</c> calls may follow. The
/// <c>all\n</c> is dropped from every reply, tools or not. Raw code for <c>python</c> is read as <c>{"code": …}</c>.
/// </summary>
internal sealed class FunctionaryV32Reader : CallReader
{
    private const string Recipient = ">>>", Everyone = "all";

    public override IReadOnlyList<string> Openers => [Recipient];

    public override (Opening Opening, int Skip) Open(string text)
    {
        int newline = text.IndexOf('\n');
        if (newline < 0)
            return text.Length <= ToolDefinition.MaxNameLength && (text.Length == 0 || ToolDefinition.IsValidName(text)) ? (Opening.Undecided, 0) : (Opening.Text, 0);
        string first = text[..newline];
        if (first == Everyone) return (Opening.Text, newline + 1);
        return ToolDefinition.IsValidName(first) ? (Opening.Calls, 0) : (Opening.Text, 0);
    }

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        var calls = new List<WrittenCall>();
        var rest = new StringBuilder();
        int at = 0;
        while (at < section.Length)
        {
            Take(section, ref at, Recipient);
            int newline = section.IndexOf('\n', at);
            if (newline < 0) return null;
            string name = section[at..newline];
            at = newline + 1;
            int next = section.IndexOf(Recipient, at, StringComparison.Ordinal);
            int end = next < 0 ? section.Length : next;
            if (name == Everyone) { rest.Append(section, at, end - at); at = end; continue; }
            if (!ToolDefinition.IsValidName(name)) return null;
            if (ReadJson(section, at) is { } json && json.Value.RootElement.ValueKind == JsonValueKind.Object && SkipSpace(section, json.End) == end)
            {
                using (json.Value) calls.Add(new WrittenCall(name, json.Value.RootElement.GetRawText()));
            }
            else if (name == "python") calls.Add(new WrittenCall(name, JsonSerializer.Serialize(new Dictionary<string, string> { ["code"] = section[at..end] })));
            else return null;
            at = end;
        }
        return calls.Count == 0 ? null : (calls, rest.ToString().Trim());
    }
}

using System.Text.Json;

namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// Templates that take tools but show no call syntax (or none read here): the reply as llama.cpp's generic JSON,
/// <c>{"tool_calls": [{"name": …, "arguments": {…}}]}</c>, <c>{"tool_call": {…}}</c> or a bare <c>{"name": …, "arguments": {…}}</c>;
/// <c>{"response": "…"}</c> is the answer's text.
/// </summary>
internal sealed class GenericJsonReader : CallReader
{
    public override (Opening Opening, int Skip) Open(string text)
    {
        string start = text.TrimStart();
        if (start.Length == 0) return (Opening.Undecided, 0);
        return start[0] == '{' ? (Opening.Calls, 0) : (Opening.Text, 0);
    }

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        if (ReadJson(section, 0) is not { } json) return null;
        using (json.Value)
        {
            if (SkipSpace(section, json.End) != section.Length) return null;
            var root = json.Value.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            if (root.TryGetProperty("tool_calls", out var list)) return CallArray(list, "name", "arguments") is { } calls ? (calls, "") : null;
            if (root.TryGetProperty("tool_call", out var one)) return Call(one, "name", "arguments") is { } call ? ([call], "") : null;
            if (root.TryGetProperty("response", out var response))
                return ([], response.ValueKind == JsonValueKind.String ? response.GetString()! : response.GetRawText());
            return Call(root, "name", "arguments", "parameters") is { } bare ? ([bare], "") : null;
        }
    }
}

namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// Mistral (Nemo, Small): <c>[TOOL_CALLS]</c> and a JSON array of <c>{"name": …, "arguments": {…}}</c>, at the reply's start or
/// after text. The marker is a control token that decoding drops unless it is kept, so a reply that is just the array counts too.
/// </summary>
internal sealed class MistralReader : CallReader
{
    public const string Marker = "[TOOL_CALLS]";

    public override IReadOnlyList<string> Openers => [Marker];

    public override (Opening Opening, int Skip) Open(string text)
    {
        string start = text.TrimStart();
        if (start.Length == 0 || Partial(start, Marker)) return (Opening.Undecided, 0);
        return start[0] == '[' ? (Opening.Calls, 0) : (Opening.Text, 0);
    }

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        int at = SkipSpace(section, 0);
        Take(section, ref at, Marker);
        if (ReadJson(section, at) is not { } json) return null;
        using (json.Value)
        {
            var calls = CallArray(json.Value.RootElement, "name", "arguments");
            return calls is null ? null : (calls, section[json.End..].Trim());
        }
    }
}

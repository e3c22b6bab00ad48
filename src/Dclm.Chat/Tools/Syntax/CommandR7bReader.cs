namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// Command R7B: <c>&lt;|START_ACTION|&gt;[{"tool_call_id": "0", "tool_name": …, "parameters": {…}}]&lt;|END_ACTION|&gt;</c>, after a
/// plan in <c>&lt;|START_THINKING|&gt;…&lt;|END_THINKING|&gt;</c> (reasoning, split off before this reader); a plain answer sits in
/// <c>&lt;|START_RESPONSE|&gt;…&lt;|END_RESPONSE|&gt;</c>, whose markers are dropped. The markers are control tokens, kept in the
/// text only while tools are offered; a reply that is just the action array (a forced call without them) counts too.
/// </summary>
internal sealed class CommandR7bReader : CallReader
{
    public const string StartAction = "<|START_ACTION|>", EndAction = "<|END_ACTION|>", StartResponse = "<|START_RESPONSE|>", EndResponse = "<|END_RESPONSE|>";
    private const string BareAction = "[{\"tool_call_id\"";

    public override IReadOnlyList<string> Openers => [StartAction, EndResponse];

    public override (Opening Opening, int Skip) Open(string text)
    {
        string start = text.TrimStart();
        if (start.Length == 0 || Partial(start, StartResponse) || Partial(start, BareAction)) return (Opening.Undecided, 0);
        if (start.StartsWith(StartResponse, StringComparison.Ordinal)) return (Opening.Text, text.Length - start.Length + StartResponse.Length);
        return start.StartsWith(BareAction, StringComparison.Ordinal) ? (Opening.Calls, 0) : (Opening.Text, 0);
    }

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        int at = SkipSpace(section, 0);
        // The end of a plain answer: nothing to call, whatever follows the marker is text.
        if (Take(section, ref at, EndResponse)) return ([], section[at..].Trim());
        Take(section, ref at, StartAction);
        if (ReadJson(section, at) is not { } json) return null;
        using (json.Value)
        {
            var calls = CallArray(json.Value.RootElement, "tool_name", "parameters");
            if (calls is null) return null;
            at = SkipSpace(section, json.End);
            Take(section, ref at, EndAction);
            return (calls, section[at..].Trim());
        }
    }
}

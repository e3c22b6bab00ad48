namespace Dclm.Chat.Tools;

/// <summary>How a model family writes its function calls, as llama.cpp's server reads them.</summary>
public enum ToolCallSyntax
{
    /// <summary>Hermes 2 Pro and 3, Qwen 2.5 and 3: <c>&lt;tool_call&gt;{"name": …, "arguments": {…}}&lt;/tool_call&gt;</c> after optional text.</summary>
    Hermes,
    /// <summary>Llama 3.1 to 3.3: the whole reply is one <c>{"name": …, "parameters": {…}}</c> object, or a built-in tool's <c>&lt;|python_tag|&gt;name.call(key=value)</c>.</summary>
    JsonObject,
    /// <summary>Mistral: <c>[TOOL_CALLS]</c> and a JSON array of <c>{"name": …, "arguments": {…}}</c>.</summary>
    JsonArray,
    /// <summary>Functionary v3.1: <c>&lt;function=name&gt;{…}&lt;/function&gt;</c>, and <c>&lt;|python_tag|&gt;</c> with raw code.</summary>
    FunctionaryV31,
    /// <summary>Functionary v3.2: <c>&gt;&gt;&gt;name\n{…}</c>, the answer's text under <c>&gt;&gt;&gt;all\n</c>.</summary>
    FunctionaryV32,
    /// <summary>Firefunction v2: <c> functools[{"name": …, "arguments": {…}}, …]</c>.</summary>
    FirefunctionV2,
    /// <summary>Command R7B: <c>&lt;|START_ACTION|&gt;[{"tool_call_id": …, "tool_name": …, "parameters": {…}}]&lt;|END_ACTION|&gt;</c>.</summary>
    CommandR7b,
    /// <summary>DeepSeek R1: <c>&lt;｜tool▁calls▁begin｜&gt;&lt;｜tool▁call▁begin｜&gt;function&lt;｜tool▁sep｜&gt;name\n```json\n{…}\n```&lt;｜tool▁call▁end｜&gt;…</c>.</summary>
    DeepSeekR1,
    /// <summary>A template that takes tools with no syntax read here: llama.cpp's generic <c>{"tool_calls": [{"name": …, "arguments": {…}}]}</c>.</summary>
    GenericJson,
}

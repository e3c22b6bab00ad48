#!/usr/bin/env python3
"""Writes tests/Dclm.Chat.Tests/fixtures/chat-templates.json: real Hugging Face chat templates rendered by
Jinja2 itself, configured as transformers' apply_chat_template configures it (sandboxed, trim_blocks,
lstrip_blocks, loop controls, raise_exception, its own tojson). The C# template engine is tested against these outputs."""
import datetime, json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError

TEMPLATES = {
    "openhermes-chatml": r"""{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}""",
    "mistral-7b-instruct-v0.2": r"""{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}""",
    "vigogne-2-70b-chat": r"""{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% elif true == true and not '<<SYS>>' in messages[0]['content'] %}{% set loop_messages = messages %}{% set system_message = 'Vous êtes Vigogne, un assistant IA créé par Zaion Lab. Vous suivez extrêmement bien les instructions. Aidez autant que vous le pouvez.' %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'system' %}{{ '<<SYS>>\n' + content.strip() + '\n<</SYS>>\n\n' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}""",
    "gemma-7b-it": r"""{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}""",
    "openchat-3.5": r"""{{ bos_token }}{% for message in messages %}{{ 'GPT4 Correct ' + message['role'].title() + ': ' + message['content'] + '<|end_of_turn|>'}}{% endfor %}{% if add_generation_prompt %}{{ 'GPT4 Correct Assistant:' }}{% endif %}""",
    "deepseek-coder-instruct": "{% if not add_generation_prompt is defined %}\n{% set add_generation_prompt = false %}\n{% endif %}\n{%- set ns = namespace(found=false) -%}\n{%- for message in messages -%}\n    {%- if message['role'] == 'system' -%}\n        {%- set ns.found = true -%}\n    {%- endif -%}\n{%- endfor -%}\n{{bos_token}}{%- if not ns.found -%}\n{{'You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\\n'}}\n{%- endif %}\n{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n{{ message['content'] }}\n    {%- else %}\n        {%- if message['role'] == 'user' %}\n{{'### Instruction:\\n' + message['content'] + '\\n'}}\n        {%- else %}\n{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{% if add_generation_prompt %}\n{{'### Response:'}}\n{% endif %}",
    "command-r-plus": r"""{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% elif false == true %}{% set loop_messages = messages %}{% set system_message = 'You are Command-R, a brilliant, sophisticated, AI-assistant trained to assist human users by providing thorough responses. You are trained by Cohere.' %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% if system_message != false %}{{ '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% set content = message['content'] %}{% if message['role'] == 'user' %}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% elif message['role'] == 'assistant' %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'  + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}""",
    "llama-3-instruct": r"""{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}""",
    "phi-3": r"""{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '
' + message['content'] + '<|end|>' + '
' + '<|assistant|>' + '
'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '
'}}{% endif %}{% endfor %}""",
    "zephyr": "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
    "qwen2-default-system": "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
    "llama-2-chat": "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
    "mistral-v0.3-style-ns": "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.last and system_message is defined %}\n            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}\n        {%- else %}\n            {{- '[INST] ' + message['content'] + '[/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n",
    "filters-and-tests": "{%- for m in messages if m.role != 'system' -%}\n  {{ loop.index }}/{{ loop.length }} {{ m.role | upper }}{{ ':' if not loop.last else '!' }} {{ m.content | replace('a', '4') if m.content is string else '?' }} [{{ m.content.split() | length }} words, {{ m.content | length }} chars, {{ m.content[:3] }}|{{ m.content[-2:] }}]\n{% endfor -%}\n{{ messages | map(attribute='role') | join(',') if false else (messages | length) ~ ' messages' }}{{ '\\n' ~ (7 // 2) ~ ' ' ~ (7 % 3) ~ ' ' ~ (2 * 3 + 1) ~ ' ' ~ range(3) | join('-') ~ ' ' ~ '=' * 3 ~ (messages | last).role * 2 }}",
    "select-and-map": "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(' / ') }}|{{ messages | rejectattr('role', 'equalto', 'user') | list | length }}|{{ messages | map(attribute='role') | map('upper') | join(',') }}|{{ messages | map(attribute='content') | select('ne', 'Hello') | list | length }}{% if add_generation_prompt %}>{% endif %}",
    "macros": "{%- macro local_seen() -%}{{ 'caller local visible' if local is defined else '' }}{%- endmacro -%}{%- macro turn(role, text, close='<|end|>') -%}\n<|{{ role }}|>{{ text | trim }}{{ close }}\n{%- endmacro -%}\n{%- for m in messages %}{% set local = 'L' %}{{ turn(m.role, m.content) }}{{ local_seen() }}{% endfor %}{% if add_generation_prompt %}{{ turn('assistant', '', close='') }}{% endif %}",
    "whitespace-control": "{# comment #}\n  {% for m in messages +%}\n    {%+ if m.role == 'user' %}U{% else %}O{% endif +%}\n  {{- m.content -}}  \n{%- endfor %}\n  {# indented comment #}\nend\n",
    "dated": "{{ bos_token }}Today is {{ strftime_now('%d %b %Y') }} ({{ strftime_now('%A, %B %-d, %Y %H:%M:%S %p, day %j, %y/%m, %I o%%clock') }}).\n{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
    "call-with-raw-filter": "{%- macro turn(role) -%}\n<|{{ role }}|>{{ caller() | trim }}<|end|>\n{% endmacro -%}\n{%- for m in messages -%}\n{%- call turn(m.role) %} {{ m.content }} {% endcall -%}\n{%- endfor -%}\n{%- with n = messages | length, last = messages | last -%}\n{{ '%d messages, last from %s (%.1f%%)' % (n, last.role, 100.0 * n / 8) }}\n{%- endwith %}\n{% raw %}{{ not a tag }} {% if %}{% endraw %}\n{% filter upper %}{{ missing | default('done') }} {{ 2 ** 10 }}{% endfilter %}\n{%- if add_generation_prompt %}<|assistant|>{% endif %}",
    "sort-unique-format": "{%- set roles = messages | map(attribute='role') | unique | sort | list -%}\nroles: {{ roles | join(', ') }} ({{ roles | length }})\n{% for m in messages | sort(attribute='role', reverse=true) -%}\n{{ loop.cycle('>', '<') }} {{ m.role | center(11) }}|{{ m.content | wordcount }} words|{{ m.content | e }}|{{ m.content | tojson }}\n{% endfor -%}\n{{ messages | map(attribute='content') | map('length') | sum }} chars, longest {{ messages | map(attribute='content') | map('length') | max }}, {{ (messages | length / 3) | round(2) }} {{ -7 | abs }} {{ 10 is divisibleby 5 }} {{ messages[0].role is in ['system', 'user'] }} {{ none is sameas none }}\n{{ {'b': 1, 'a': [1, 2.5, none, true]} | tojson(indent=2) }} {{ {'z': '\u00fc', 'a': 1} | tojson(sort_keys=true) }}{% for k, v in {'b': 1, 'a': 2} | dictsort %} {{ k }}={{ v }}{% endfor %}\n{{ messages[:1] }} {{ '%-8s|%5.2f|%03d|%x|%e' % ('fmt', 3.14159, 7, 255, 12345.678) }} {{ \"%s and %s\" | format('this', 'that') }}",
    # Python semantics the templates rely on: generators (truthy, used up by one pass), Markup escaping what is added to it,
    # code-point lengths, a mapping's methods found before its keys, lenient item access, str() in string filters.
    "python-semantics": "{%- set users = messages | selectattr('role', 'equalto', 'user') -%}\n{{ 'gen true' if users else 'gen false' }} {{ users | list | length }} {{ users | list | length }}\n{%- set roles = messages | map(attribute='role') %}\nfirst={{ roles | first }} rest={{ roles | join(',') }} again={{ roles | join(',') }}\n{{ (none | map('upper') | list) ~ (messages | selectattr('nope') | list) }} {{ messages | map(attribute='nope', default='-') | join }}\n{%- set last = messages | last %}\nlen={{ last.content | length }} idx={{ last.content[-3] }} slice={{ last.content[-4:] }} rev={{ last.content | reverse }} chars={{ last.content | list | length }}\n{{ \"<b>\"|safe + \"<i>\" }} {{ \"<i>\" + \"<b>\"|safe }} {{ (\"<b>\"|safe) ~ \"<i>\" }} {{ (\"%s & %s\"|safe) % (\"<x>\", \"y\") }} {{ \"<a>\"|e + \"<c>\" }} {{ \"a<b\"|safe|replace(\"<\", \"(\") + \"<\" }} {{ (\"x\"|safe).upper() + \"&\" }} {{ [\"<\", \"&\"|safe] | join(\"|\") }}\n{%- set spec = {'type': 'array', 'items': {'type': 'string'}} %}\n{{ spec.items is defined }} {{ spec['items'].type }} {{ spec.items.type is defined }} {{ spec.get('type') }} {{ spec.keys() | list }}\n{{ none[0] is defined }} {{ none.x is defined }} {{ [1][5] is defined }} {{ 'abc'.nope is defined }} [{{ missing | trim }}] [{{ none | upper }}] [{{ 7 | string }}]\n{{ true is number }} {{ true is integer }} {{ missing is iterable }} {{ missing is sequence }} {{ users is sequence }} {{ {} is sequence }} {{ missing | length }}\n{{ [{'f': {'n': 'a'}}, {'f': {'n': 'b'}}] | map(attribute='f.n') | join }} {{ [[1, 2], [3, 4]] | map(attribute='1') | list }} {{ [1, 2, 2, 3, 1] | unique | list }} {{ [3, 1, 2] | reverse | list }} {{ 'héllo 👋'.upper() }}\n{{ '%-6s|' % '👋' }}{{ '👋' | center(5) }}|{{ messages | items if false else '' }}\n",
}

# Longer templates kept as files beside this script (their text as published), and the 17 templates llama.cpp keeps in
# its repository (models/templates, February 2025), named as there.
import pathlib
HERE = pathlib.Path(__file__).parent / "chat-templates"
for path in sorted(HERE.glob("*.jinja")) + sorted((HERE / "llama.cpp").glob("*.jinja")):
    TEMPLATES[path.stem] = path.read_text(encoding="utf-8")
LLAMA_CPP = {path.stem for path in (HERE / "llama.cpp").glob("*.jinja")}

CONVERSATIONS = {
    "with-system": [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there"},
        {"role": "user", "content": "Who are you"},
        {"role": "assistant", "content": "   I am an assistant   "},
        {"role": "user", "content": "Another question"},
    ],
    "no-system": [
        {"role": "user", "content": "What's 2+2? <|im_end|>"},
        {"role": "assistant", "content": "4, naturally.\n"},
        {"role": "user", "content": "  Thanks! Tschüss, 你好 👋  "},
    ],
}

# Function calling, as an OpenAI request carries it: tools as JSON schemas, an assistant turn with tool_calls (arguments
# as JSON text) and empty content, and tool answers with their call ids. Rendered with templates that mention tools and
# with every llama.cpp template. Mistral's templates want nine-character call ids.
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city, in °C",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
        "days": {"type": "integer", "minimum": 1, "description": "Days ahead"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "local_time", "description": "The time in a time zone <|im_end|>",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}, "formats": {"type": "array", "items": {"type": "string"},
        "description": "Formats to give the time in"}}, "required": ["zone"]}}}
TOOL_CONVERSATIONS = {
    # The first turn of a request that offers one function.
    "weather": ([WEATHER], [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "Wie ist das Wetter in München?"},
    ]),
    # A call, its answer and the reply, then the next question, with two functions.
    "tool-use": ([WEATHER, TIME], [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris", "days": 1})}}]},
        {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temperature\": 21.5, \"sky\": \"clear\"}"},
        {"role": "assistant", "content": "It is 21.5 °C and clear in Paris."},
        {"role": "user", "content": "And the time there?"},
    ]),
}

def raise_exception(message):
    raise TemplateError(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers replaces Jinja's tojson (which sorts keys and escapes HTML) with plain json.dumps.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
# transformers' strftime_now formats the current time; the fixture fixes the instant, and the test passes the same one.
NOW = datetime.datetime(2026, 3, 7, 14, 5, 9)
env.globals["strftime_now"] = lambda format: NOW.strftime(format)

def context(source, tools):
    """Variables besides transformers' own that a template needs, as llama.cpp's server passes them: Firefunction v2
    (detected by " functools[") reads the tools as indented JSON text in `functions` and the date in `datetime`."""
    if " functools[" not in source:
        return {}
    return {"functions": json.dumps(tools, indent=2, ensure_ascii=False) if tools else "", "datetime": NOW.strftime("%b %d %Y %H:%M:%S GMT")}

def renders_arguments(template, source, as_text):
    """Whether a call's arguments reach the output when passed as a mapping (or as JSON text): minja's probe."""
    arguments = {"argument_needle": "print('Hello, World!')"}
    call = {"id": "call_1___", "type": "function", "function": {"name": "ipython", "arguments": json.dumps(arguments) if as_text else arguments}}
    try:
        out = template.render(messages=[{"role": "user", "content": "Hey"}, {"role": "assistant", "content": "", "tool_calls": [call]}],
                              documents=None, bos_token="<s>", eos_token="</s>", add_generation_prompt=False, **context(source, None))
    except Exception:
        return False
    return '"argument_needle":' in out or "'argument_needle':" in out

def as_template_values(messages, arguments_as_text):
    """Messages as transformers passes them (call arguments as a mapping), or with the arguments left as JSON text for
    a template that renders them only that way (Functionary, Firefunction: written for OpenAI's text arguments)."""
    if arguments_as_text:
        return messages
    return [dict(m, tool_calls=[dict(c, function=dict(c["function"], arguments=json.loads(c["function"]["arguments"]))) for c in m["tool_calls"]])
            if "tool_calls" in m else m for m in messages]

cases = []
for name, source in TEMPLATES.items():
    template = env.from_string(source)
    arguments_as_text = "tool_calls" in source and not renders_arguments(template, source, False) and renders_arguments(template, source, True)
    conversations = [(c, m, None) for c, m in CONVERSATIONS.items()]
    if "tools" in source or name in LLAMA_CPP:
        conversations += [(c, m, t) for c, (t, m) in TOOL_CONVERSATIONS.items()]
    for conversation_name, messages, tools in conversations:
        for generation in (True, False):
            case = {"template": name, "source": source, "conversation": conversation_name, "messages": messages,
                    "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": generation, "now": NOW.isoformat()}
            variables = {"messages": as_template_values(messages, arguments_as_text), "documents": None, "bos_token": "<s>", "eos_token": "</s>",
                         "add_generation_prompt": generation}
            if tools is not None:
                # tools stay undefined when a request offers none, as llama.cpp's server leaves them.
                case["tools"] = variables["tools"] = tools
            extra = context(source, tools)
            if extra:
                case["context"] = extra
            try:
                case["expected"] = template.render(**variables, **extra)
            except TemplateError as error:
                # raise_exception's message is the template's own; other errors (undefined values) are Jinja2's wording.
                case["error"] = str(error)
                case["raised"] = type(error).__name__ == "TemplateError"
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as error:
                # Python's own errors from an operation the template cannot do (a None iterated, a str added to a dict).
                case["error"] = f"{type(error).__name__}: {error}"
                case["raised"] = False
            cases.append(case)
json.dump(cases, sys.stdout, ensure_ascii=False, indent=1)
print()

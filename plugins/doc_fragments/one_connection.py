# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the connection options shared by every one_* module."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - URL of the OpenNebula XML-RPC endpoint, e.g. C(http://frontend:2633/RPC2).
      - Defaults to the E(ONE_URL) environment variable, then E(ONE_XMLRPC), then C(http://localhost:2633/RPC2).
    type: str
    aliases: [api_endpoint]
  api_username:
    description:
      - OpenNebula user name. Defaults to E(ONE_USERNAME), then the first line of the E(ONE_AUTH) file
        (default C(~/.one/one_auth), C(username:password)), as the C(one*) commands do.
    type: str
  api_password:
    description:
      - Password of O(api_username). Defaults to E(ONE_PASSWORD), then the E(ONE_AUTH) file.
      - Never logged. Keep it in Ansible Vault.
    type: str
  api_timeout:
    description: Seconds to wait for one XML-RPC answer.
    type: int
    default: 30
  validate_certs:
    description: Whether to verify the TLS certificate of an C(https) endpoint.
    type: bool
    default: true
requirements:
  - pyone >= 6.10 (OpenNebula's XML-RPC bindings) on the host running the module
attributes:
  check_mode:
    support: full
    description: Predicts the changes without any write call.
  diff_mode:
    support: full
    description: Shows the changed attributes, before and after.
"""

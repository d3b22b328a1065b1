/** The stable service and hypervisor ids live in protocols/ (the conductor resolves them too). */
export { hostInt, hostUuid } from '../../../protocols/host-ids.js';

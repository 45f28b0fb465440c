// Docket, under the name `bullmq`: the same module instances as require('docket').
module.exports = require('docket');
